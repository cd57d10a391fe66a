from __future__ import annotations

from decimal import ROUND_DOWN
from decimal import Decimal as D

import numpy as np
import pytest
import talib

from apps.bots.backtest import BookWalkFillModel, CandleFillModel, backtest_run, bar_from_values, load_csv
from tests.bots.helpers import bars

RISK = {"order_size": "0.05", "stop_loss_pct": "2"}


@pytest.fixture(scope="module")
def btc_1m(shared_data):
    return load_csv(shared_data / "binance-BTCQUOTED-1m-2017-11.csv.gz")


def test_same_input_twice_gives_the_same_trades(btc_1m):
    runs = [
        backtest_run(strategy="rsi_mean_reversion", params={}, bars=btc_1m, risk=RISK, initial_quote=D("10"))
        for _ in range(2)
    ]
    assert runs[0].trade_hash == runs[1].trade_hash
    assert runs[0].metrics == runs[1].metrics
    assert len(runs[0].trades) > 20


def test_first_trades_checked_by_hand_against_talib(btc_1m):
    """The first buy is on the first candle whose TA-Lib RSI(14) is below 30; the close-price
    model fills it at close + 5 bps, the fee is 0.1 % of the base received."""
    window = btc_1m[:3000]
    closes = np.array([b.close_f for b in window])
    rsi = talib.RSI(closes, timeperiod=14)
    first = next(i for i, v in enumerate(rsi) if not np.isnan(v) and v < 30)
    report = backtest_run(
        strategy="rsi_mean_reversion",
        params={},
        bars=window,
        risk=RISK,
        initial_quote=D("10"),
        fill_model=CandleFillModel(),
    )
    buy = report.trades[0]
    assert (buy.side, buy.open_time_ms) == ("buy", window[first].open_time_ms)
    price = window[first].close * D("1.0005")
    qty = (D("0.05") / price).quantize(D("0.00000001"), rounding=ROUND_DOWN)
    assert (buy.price, buy.quantity, buy.fee) == (price, qty, qty * D("0.001"))
    # The exit: the first later candle whose low reached the resting 2 % stop (inside the
    # candle) or that closed with RSI > 70. Here the strategy's signal comes first.
    sell = report.trades[1]
    entry = buy.quote / (qty - buy.fee)
    exit_i = next(
        i
        for i in range(first + 1, len(window))
        if (not np.isnan(rsi[i]) and rsi[i] > 70) or window[i].low <= entry * D("0.98")
    )
    assert window[exit_i].low > entry * D("0.98")
    assert (sell.side, sell.source, sell.open_time_ms) == ("sell", "strategy", window[exit_i].open_time_ms)
    sell_price = window[exit_i].close * D("0.9995")
    held = qty - buy.fee
    assert sell.quantity == held.quantize(D("0.00000001"), rounding=ROUND_DOWN)  # step rounding leaves dust
    assert sell.price == sell_price
    assert sell.pnl == sell.quantity * sell_price * D("0.999") - buy.quote * (sell.quantity / held)
    # Equity adds up: cash flows plus the position marked at the last close.
    cash = D("10") - sum(t.quote for t in report.trades if t.side == "buy")
    cash += sum(t.quote - t.fee for t in report.trades if t.side == "sell")
    held = sum(t.quantity - t.fee for t in report.trades if t.side == "buy") - sum(
        t.quantity for t in report.trades if t.side == "sell"
    )
    assert report.final_equity == cash + held * window[-1].close


def test_default_fill_engine_walks_a_book_built_from_the_candle():
    model = BookWalkFillModel()
    bar = bars(["100"], volume="10")[0]  # 1 unit per level, levels at 100.01, 100.03, ...
    fill = model.market(side="buy", bar=bar, quantity=D("1.5"), quote_amount=None)
    assert fill.quantity == D("1.5")
    assert fill.quote == D("100.01") + D("100.03") * D("0.5")
    assert fill.price == (fill.quote / D("1.5")).quantize(D("1e-18"))
    assert fill.slippage_bps == D("1.6667")
    assert fill.fee == D("0.0015") and fill.fee_in_base
    assert fill.complete
    # A candle without volume has no book: nothing fills, as on the exchange.
    assert model.market(side="buy", bar=bars(["100"], volume="0")[0], quantity=D("1"), quote_amount=None) is None


def test_metrics_on_a_scripted_round_trip():
    series = bars([10, 9, 8, 7, 8, 9, 10, 10])
    report = backtest_run(
        strategy="rsi_mean_reversion",
        params={"period": 2},
        bars=series,
        risk={"order_size": "70"},
        initial_quote=D("100"),
        fill_model=CandleFillModel(slippage_bps=D("0")),
    )
    buy, sell = report.trades
    assert (buy.price, buy.quantity, buy.fee) == (D("8"), D("8.75"), D("0.00875"))
    assert (sell.price, sell.quantity) == (D("9"), D("8.74125"))
    assert sell.pnl == D("8.74125") * 9 * D("0.999") - 70
    assert report.metrics["closed_trades"] == 1 and report.metrics["win_rate_pct"] == "100.00"
    assert report.final_equity == D("30") + D("8.74125") * 9 * D("0.999")
    assert report.metrics["fees_paid"] == str((D("0.00875") * 8 + D("8.74125") * 9 * D("0.001")).quantize(D("1e-8")))


def test_a_trailing_stop_exits_inside_the_candle_that_crosses_it():
    """Entry at 98 (close). Rising candle 98 -> 97.9 -> 105 -> 104: the trail's best becomes
    105 (2 % level 102.9), the close is above it. Falling candle 104 -> 106 -> 101 -> 101.5:
    best 106, level 103.88, crossed on the way down; the fill is the low after it, 101."""
    flat = bars([100, 99, 98])
    series = [
        *flat,
        bar_from_values(3 * 60_000, D("98"), D("105"), D("97.9"), D("104"), D("1000")),
        bar_from_values(4 * 60_000, D("104"), D("106"), D("101"), D("101.5"), D("1000")),
    ]
    report = backtest_run(
        strategy="rsi_mean_reversion",
        params={"period": 2, "overbought": 99},
        bars=series,
        risk={"order_size": "98", "trailing_stop_pct": "2"},
        initial_quote=D("1000"),
        fill_model=CandleFillModel(slippage_bps=D("0")),
    )
    buy, sell = report.trades
    assert (buy.price, buy.open_time_ms) == (D("98"), 2 * 60_000)
    assert (sell.source, sell.price, sell.open_time_ms, sell.reason) == (
        "trailing_stop",
        D("101"),
        4 * 60_000,
        "trailing-stop order",
    )
    assert sell.quantity == (buy.quantity - buy.fee).quantize(D("0.00000001"), rounding=ROUND_DOWN)
