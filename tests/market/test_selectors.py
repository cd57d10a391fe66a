"""Market reads: stored candles, their gaps, and which symbols a feed streams."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.market.events import KlineEvent
from apps.market.selectors import candle_gaps, candle_last_open_map, candle_list, feed_symbols
from apps.market.services import candles_upsert
from tests.factories import instrument_make

pytestmark = pytest.mark.django_db


def _k(open_ms, close="2", tf="1m", symbol="BTCUSDT"):
    return KlineEvent("binance", symbol, tf, open_ms, D("1"), D("3"), D("0.5"), D(close), D("10"), D("20"), True, 0)


def test_candle_gaps_lists_missing_open_times():
    candles_upsert(candles=[_k(0), _k(120_000)])
    assert candle_gaps(exchange="binance", symbol="BTCUSDT", timeframe="1m", start_ms=0, end_ms=180_000) == [
        60_000,
        180_000,
    ]


def test_gaps_start_at_the_first_open_time_of_the_timeframe():
    candles_upsert(candles=[_k(300_000, tf="5m")])
    assert candle_gaps(exchange="binance", symbol="BTCUSDT", timeframe="5m", start_ms=1, end_ms=600_000) == [600_000]


def test_candle_list_is_oldest_first_within_the_range():
    candles_upsert(candles=[_k(120_000, close="4"), _k(0), _k(60_000, close="3")])
    rows = candle_list(exchange="binance", symbol="BTCUSDT", timeframe="1m", start_ms=60_000)
    assert [row.close for row in rows] == [D("3"), D("4")]
    assert len(candle_list(exchange="binance", symbol="BTCUSDT", timeframe="1m", end_ms=60_000)) == 2


def test_last_open_per_symbol_and_timeframe():
    candles_upsert(candles=[_k(0), _k(60_000), _k(0, tf="5m"), _k(0, symbol="ETHUSDT")])
    assert candle_last_open_map(exchange="binance", symbols=["BTCUSDT"]) == {
        ("BTCUSDT", "1m"): 60_000,
        ("BTCUSDT", "5m"): 0,
    }


def test_feed_symbols_are_the_active_instruments_else_the_setting(settings):
    settings.MARKET_SYMBOLS = ["BTCUSDT", "ETHUSDT"]
    assert feed_symbols(exchange="binance") == ["BTCUSDT", "ETHUSDT"]
    instrument_make(symbol="SOLUSDT")
    instrument_make(symbol="ADAUSDT", is_active=False)
    assert feed_symbols(exchange="binance") == ["SOLUSDT"]
