"""Every price and quantity the simulator emits is a multiple of the instrument's tick/step
and round-trips through Decimal, on every configured instrument of both exchanges."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.market.simulator import fmt, kc_fmt
from apps.market.simulator.candles import KlineBook, rolling_24h
from apps.market.simulator.market import Market
from apps.market.simulator.symbols import DEFAULT_SPECS, EXCHANGES

from .wire_check import (
    BINANCE_KLINE_EVENT,
    BINANCE_KLINE_ROW,
    BINANCE_TICKER,
    BINANCE_TICKER_EVENT,
    BINANCE_TRADE,
    KUCOIN_CANDLE_ROW,
    KUCOIN_MATCH,
    KUCOIN_STATS,
    KUCOIN_TICKER,
    WireChecker,
)

START = 1_767_225_600_000
MINUTE = 60_000


def test_step_size_one_quantities_are_not_scaled() -> None:
    assert fmt._bn(2702, 0) == "2702.00000000"
    assert fmt._bn(5, 1) == "0.50000000"


def _exact(m: Market, wire: list[list[str]], units: list[tuple[int, int]]) -> None:
    """The wire value is the simulator's integer value, not a scaled one."""
    decoded = [(Decimal(p).scaleb(m.pd), Decimal(q).scaleb(m.qd)) for p, q, *_ in wire]
    assert decoded == [(Decimal(p), Decimal(q)) for p, q in units], (m.exchange, m.spec.symbol, wire[:2], units[:2])


def _binance(check: WireChecker, m: Market, book: KlineBook, now: int) -> None:
    sym = m.spec.symbol
    bids, asks = m.book(50)
    _exact(m, fmt.binance_levels(m, bids), bids)
    trades = list(m.recent)[-50:]
    _exact(
        m,
        [[e["p"], e["q"]] for e in (json.loads(fmt.binance_trade_event(m, t, 0)) for t in trades)],
        [(t.price, t.qty) for t in trades],
    )
    check.levels("binance", sym, fmt.binance_levels(m, bids), "depth.bids")
    check.levels("binance", sym, fmt.binance_levels(m, asks), "depth.asks")
    for t in list(m.recent)[-50:]:
        check.fields("binance", sym, json.loads(fmt.binance_trade_event(m, t, now)), BINANCE_TRADE, "trade")
        check.fields("binance", sym, json.loads(fmt.binance_agg_event(m, t, now)), BINANCE_TRADE, "aggTrade")
        rest = fmt.binance_trade_rest(m, t)
        check.fields("binance", sym, rest, {"price": "price", "qty": "qty", "quoteQty": "quote"}, "trades")
    for interval in ("1m", "1h", "1d", "1w"):
        for r in book.klines(interval, start_ms=None, end_ms=None, limit=5, now_ms=now):
            check.row("binance", sym, fmt.binance_kline_row(m, r, MINUTE), BINANCE_KLINE_ROW, f"klines.{interval}")
            event = json.loads(fmt.binance_kline_event(m, r, interval, MINUTE, False, now))["k"]
            check.fields("binance", sym, event, BINANCE_KLINE_EVENT, "kline_event")
    stats = rolling_24h(book, now)
    check.fields("binance", sym, fmt.binance_ticker_rest(m, stats, now), BINANCE_TICKER, "ticker/24hr")
    for mini in (True, False):
        event = json.loads(fmt.binance_ticker_event(m, stats, now, mini))
        check.fields("binance", sym, event, BINANCE_TICKER_EVENT, "ticker_event")
    bt = fmt.binance_book_ticker(m)
    check.fields("binance", sym, bt, {"bidPrice": "price", "askPrice": "price", "bidQty": "qty", "askQty": "qty"}, "bt")


def _kucoin(check: WireChecker, m: Market, book: KlineBook, now: int) -> None:
    sym = m.spec.kucoin_symbol
    bids, asks = m.book(50)
    _exact(m, kc_fmt.levels(m, asks), asks)
    trades = list(m.recent)[-50:]
    _exact(m, [[kc_fmt.price(m, t.price), kc_fmt.qty(m, t.qty)] for t in trades], [(t.price, t.qty) for t in trades])
    check.levels("kucoin", sym, kc_fmt.levels(m, bids) + kc_fmt.levels(m, asks), "level2")
    for t in list(m.recent)[-50:]:
        check.fields("kucoin", sym, json.loads(kc_fmt.match_message(m, t))["data"], KUCOIN_MATCH, "match")
        check.fields("kucoin", sym, kc_fmt.history_trade(m, t), KUCOIN_MATCH, "histories")
    for interval in ("1m", "1h", "1d", "1w"):
        for r in book.klines(interval, start_ms=None, end_ms=None, limit=5, now_ms=now):
            check.row("kucoin", sym, kc_fmt.candle_row(m, r), KUCOIN_CANDLE_ROW, f"candles.{interval}")
    check.fields("kucoin", sym, kc_fmt.stats(m, rolling_24h(book, now), now), KUCOIN_STATS, "stats")
    check.fields("kucoin", sym, kc_fmt.level1(m, now), KUCOIN_TICKER, "level1")
    check.fields("kucoin", sym, json.loads(kc_fmt.ticker_data(m, now)), KUCOIN_TICKER, "ticker")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    start_offset_min=st.integers(0, 5 * 365 * 1440),
    run_s=st.integers(1, 30),
)
def test_every_emitted_number_fits_the_instrument(seed: int, start_offset_min: int, run_s: int) -> None:
    start = START - start_offset_min * MINUTE
    for exchange in EXCHANGES:
        for spec in DEFAULT_SPECS.values():  # every configured instrument, every example
            market = Market(exchange, spec, seed, start, 20.0, 1.0)
            for step in range(1, run_s + 1):
                market.generate(start + step * 1000, 1000)
            check = WireChecker()
            (_binance if exchange == "binance" else _kucoin)(check, market, KlineBook(market), start + run_s * 1000)
            check.assert_clean(minimum=50)
