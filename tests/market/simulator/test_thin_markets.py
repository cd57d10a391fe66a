"""Thin markets: ADAUSDT is the configured quiet pair on both venues. KuCoin omits candle
intervals without trades and sends null for what a quiet pair lacks; Binance reports a
minute without trades as a zero-volume kline flat at the previous close."""

from __future__ import annotations

from decimal import Decimal

from apps.market.simulator import ExchangeSimulator, kc_fmt
from apps.market.simulator.candles import KlineBook
from apps.market.simulator.market import Market
from apps.market.simulator.symbols import DEFAULT_SPECS

from .clients import Market as KucoinMarket
from .clients import binance_client

START = 1_767_225_600_000
MINUTE = 60_000


def test_kucoin_omits_minutes_without_trades(exchange_sim: ExchangeSimulator) -> None:
    rows = KucoinMarket(url=exchange_sim.kucoin_rest_url).get_kline("ADA-USDT", "1min")
    opens = [int(r[0]) for r in rows]
    assert opens == sorted(opens, reverse=True)
    gaps = [a - b for a, b in zip(opens, opens[1:], strict=False) if a - b > 60]
    assert len(gaps) > 100  # a quiet pair: many minutes have no candle at all
    assert all(Decimal(r[5]) > 0 for r in rows)  # and no candle has zero volume
    busy = KucoinMarket(url=exchange_sim.kucoin_rest_url).get_kline("BTC-USDT", "1min")
    assert len(busy) == 1500


async def test_binance_quiet_minutes_are_flat_at_the_previous_close(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        rows = await client.get_klines(symbol="ADAUSDT", interval="1m", limit=1000)
    finally:
        await client.close_connection()
    opens = [r[0] for r in rows]
    assert opens == list(range(opens[0], opens[0] + MINUTE * len(rows), MINUTE))  # no gap
    quiet = [(prev, row) for prev, row in zip(rows, rows[1:], strict=False) if Decimal(row[5]) == 0]
    assert len(quiet) > 100
    for prev, row in quiet:
        assert row[1] == row[2] == row[3] == row[4] == prev[4] and row[8] == 0


def test_kucoin_quiet_book_side_and_quiet_day_are_null() -> None:
    market = Market("kucoin", DEFAULT_SPECS["ADAUSDT"], 3, START, 20.0, 1.0)
    empties = {"buy": 0, "sell": 0}
    for version in range(1, 200):
        market.book_version = version
        stats = kc_fmt.stats(market, None, START)
        for side in empties:
            empties[side] += stats[side] is None
        level1 = kc_fmt.level1(market, START)
        assert (level1["bestBid"] is None) == (level1["bestBidSize"] is None) == (stats["buy"] is None)
    assert empties["buy"] > 5 and empties["sell"] > 5
    quiet = kc_fmt.stats(market, None, START)  # nothing traded in the 24 h window
    assert quiet["high"] is quiet["low"] is quiet["changeRate"] is quiet["averagePrice"] is None
    assert quiet["vol"] == "0"


def test_thin_history_does_not_depend_on_the_window_asked() -> None:
    market = Market("binance", DEFAULT_SPECS["ADAUSDT"], 3, START, 20.0, 1.0)
    wide = KlineBook(market).klines("1m", start_ms=START - 3000 * MINUTE, end_ms=None, limit=1000, now_ms=START)
    market2 = Market("binance", DEFAULT_SPECS["ADAUSDT"], 3, START, 20.0, 1.0)
    book2 = KlineBook(market2)
    book2._cache = {}  # type: ignore[assignment]
    narrow = book2.klines("1m", start_ms=START - 2500 * MINUTE, end_ms=None, limit=100, now_ms=START)
    by_open = {r[0]: r for r in wide}
    assert all(by_open[r[0]] == r for r in narrow)
