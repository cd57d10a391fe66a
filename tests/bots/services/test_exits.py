"""Issue 17 acceptance: a bot's exits are resting engine orders that trigger on trades between
closes (live matcher), the first to trigger cancels the others (OCO), and the backtester gives
the same exit on the same trades."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.bots.backtest import CandleFillModel, backtest_run
from apps.bots.services import bot_create, bot_evaluate, bot_start
from apps.bots.strategies import Bar
from apps.market.events import TradeEvent
from apps.market.models import Candle
from apps.market.services import ms_to_dt
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Order
from tests.bots.conftest import set_book

pytestmark = pytest.mark.django_db

HOUR = 3_600_000
T0 = 1_700_002_800_000 - (1_700_002_800_000 % HOUR)
# RSI(2) buys on the third close (two falls); the fourth hour is the one the stop fires in.
CLOSES = ["100", "99", "98"]
# Trades of the fourth hour: the entry was 98 (a locked book at 98), so with fees the entry
# price is 98 / 0.999 = 98.0981; the 1 % stop is 97.1171 -> down to the tick: 97.11; the 2 %
# take-profit 100.0600 -> up to the tick: 100.07. 97.05 is the first trade through the stop;
# the hour then recovers and closes at 99.50, above the stop (a close check never fired).
HOUR4 = ["97.60", "97.20", "97.12", "97.05", "96.80", "97.90", "99.50"]


def _hour_candles(closes):
    rows = [
        Candle(
            exchange="binance", symbol="BTCUSDT", timeframe="1h", open_time=ms_to_dt(T0 + i * HOUR),
            open=D(c), high=D(c), low=D(c), close=D(c), volume=D("50"),
        )
        for i, c in enumerate(closes)
    ]  # fmt: skip
    Candle.objects.bulk_create(rows)


def _bot(user, portfolio, **risk):
    bot = bot_create(
        owner=user,
        portfolio=portfolio,
        name="hourly",
        symbol="BTCUSDT",
        timeframe="1h",
        strategy="rsi_mean_reversion",
        params={"period": 2},
        risk={"order_size": "100", **risk},
    )
    return bot_start(bot=bot, actor=user)


def _trades(prices, *, start_ms):
    return [
        TradeEvent("binance", "BTCUSDT", f"h4-{i}", D(p), D("5"), "sell", start_ms + (i + 1) * 60_000)
        for i, p in enumerate(prices)
    ]


def test_a_1h_bots_one_percent_stop_fills_at_the_first_trade_through_it_and_cancels_its_take_profit(user, portfolio):
    _hour_candles(CLOSES)
    set_book(98, half_spread="0")
    bot = _bot(user, portfolio, stop_loss_pct="1", take_profit_pct="2")
    run = bot_evaluate(bot=bot, candle_open_time_ms=T0 + 2 * HOUR)
    assert (run.action, run.order.avg_price) == ("buy", D("98"))
    stop, take = Order.objects.filter(portfolio=portfolio, order_type__in=("stop_loss", "take_profit")).order_by("id")
    assert (stop.order_type, stop.stop_price, stop.status) == ("stop_loss", D("97.11"), "new")
    assert (take.order_type, take.stop_price, take.status) == ("take_profit", D("100.07"), "new")
    assert stop.order_list_id == take.order_list_id is not None
    # 100 / 98 = 1.02040 BTC bought (step 0.00001), 0.1 % fee in BTC: 1.0193796 held, the
    # exits sell it down to the step.
    assert stop.quantity == take.quantity == D("1.01937")
    assert stop.locked_amount + take.locked_amount == stop.quantity  # the base reserved once
    assert ledger_problems() == []

    # The fourth hour's trades reach the paper matcher between closes.
    matcher = Matcher(threaded=False)
    matcher.load()
    for trade in _trades(HOUR4, start_ms=T0 + 3 * HOUR):
        matcher.on_event(trade)
        matcher.process_pending()
    stop.refresh_from_db()
    take.refresh_from_db()
    fill = stop.fills.get()
    assert (stop.status, fill.price, fill.trade_id) == ("filled", D("97.05"), "h4-3")  # not the 99.50 close
    assert (take.status, take.reason) == ("canceled", f"OCO: order #{stop.pk} triggered")
    assert ledger_problems() == []

    # At the hour's close the bot books the exit (and is flat: no close-price exit on top).
    Candle.objects.create(
        exchange="binance", symbol="BTCUSDT", timeframe="1h", open_time=ms_to_dt(T0 + 3 * HOUR),
        open=D("97.60"), high=D("99.50"), low=D("96.80"), close=D("99.50"), volume=D("50"),
    )  # fmt: skip
    bot_evaluate(bot=bot, candle_open_time_ms=T0 + 3 * HOUR)
    bot.refresh_from_db()
    assert bot.state["entries"] == 0 and bot.state["exit_order_ids"] == []
    booked = bot.events.filter(kind="order", data__rule="stop_loss").get()
    assert booked.data["avg_price"] == "97.050000000000000000"
    assert D(booked.data["pnl"]) < 0
    assert Order.objects.filter(portfolio=portfolio, side="sell").count() == 2  # the stop and its canceled sibling


def test_the_backtester_gives_the_same_exit_on_the_same_trades():
    bars = [Bar(T0 + i * HOUR, D(c), D(c), D(c), D(c), D("50"), float(c)) for i, c in enumerate(CLOSES)] + [
        Bar(T0 + 3 * HOUR, D("97.60"), D("99.50"), D("96.80"), D("99.50"), D("50"), 99.5)
    ]
    model = CandleFillModel(slippage_bps=D("0"))
    common = {
        "strategy": "rsi_mean_reversion",
        "params": {"period": 2},
        "bars": bars,
        "risk": {"order_size": "100", "stop_loss_pct": "1", "take_profit_pct": "2"},
        "fill_model": model,
        "timeframe_ms": HOUR,
    }
    report = backtest_run(**common, prints={T0 + 3 * HOUR: [D(p) for p in HOUR4]})
    buy, sell = report.trades  # (the strategy does not buy again at the 99.50 close)
    assert (buy.price, sell.source, sell.price, sell.open_time_ms) == (D("98"), "stop_loss", D("97.05"), T0 + 3 * HOUR)
    # From the candle alone (no trades): the rising candle's path 97.60 -> 96.80 -> 99.50 ->
    # 99.50 crosses the stop 97.1171 on the way down and fills at the low after it, 96.80.
    synthetic = backtest_run(**common).trades[1]
    assert (synthetic.source, synthetic.price) == ("stop_loss", D("96.80"))


def test_the_reconciliation_lines_up_the_live_exit_with_the_backtests(user, portfolio):
    from apps.bots.services import bot_reconcile

    _hour_candles(CLOSES)
    set_book(98, half_spread="0")
    bot = _bot(user, portfolio, stop_loss_pct="1")
    bot_evaluate(bot=bot, candle_open_time_ms=T0 + 2 * HOUR)
    matcher = Matcher(threaded=False)
    matcher.load()
    for trade in _trades(HOUR4, start_ms=T0 + 3 * HOUR):
        matcher.on_event(trade)
        matcher.process_pending()
    stop = Order.objects.get(portfolio=portfolio, order_type="stop_loss")
    hour = T0 + 3 * HOUR
    # The fill's wall-clock time decides its candle: put it inside the fourth hour.
    stop.fills.update(created_at=ms_to_dt(hour + 20 * 60_000))
    Candle.objects.create(
        exchange="binance", symbol="BTCUSDT", timeframe="1h", open_time=ms_to_dt(hour),
        open=D("97.60"), high=D("99.50"), low=D("96.80"), close=D("99.50"), volume=D("50"),
    )  # fmt: skip
    bot_evaluate(bot=bot, candle_open_time_ms=hour)
    result = bot_reconcile(bot=bot)
    sells = [d for d in result["differences"] if d["open_time_ms"] == hour]
    # Both sides sold in the fourth hour: live at the first print through the stop (97.05),
    # the backtest (no trades, only the candle) at the low after the crossing (96.80, less its
    # synthetic book's spread).
    assert len(sells) == 1 and sells[0]["kind"] == "fill_differs", result
    assert sells[0]["live"]["price"] == "97.050000000000000000"
    assert D(sells[0]["backtest"]["price"]) < D("96.80")
