"""Warm-up from stored candles and the latest-values cache (database)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.market.indicators import ALL_COLUMNS, Bar, IndicatorEngine, IndicatorParams, IndicatorState
from apps.market.indicators.selectors import latest_indicators_get
from apps.market.indicators.services import engine_warm_up, indicators_candle_closed
from tests.market.indicators.helpers import ETH, assert_matches, store_bars, talib_reference

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    cache.clear()


def test_warm_up_rebuilds_state_from_the_latest_candles(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars[ETH][:700]
    store_bars(bars)
    engine = IndicatorEngine()
    state = engine_warm_up(exchange="binance", symbol="ETHBTC", timeframe="5m", engine=engine)
    needed = IndicatorParams().warmup_candles()
    assert state.count == needed
    assert engine.state("binance", "ETHBTC", "5m") is state
    assert state.last_open_time_ms == bars[-1].open_time_ms
    # exactly TA-Lib over the candles it read ...
    replay = list(IndicatorState().run(bars[-needed:]))
    assert state.latest == replay[-1]
    # ... and, the seeds having faded, the full-history values too
    full = talib_reference(bars)
    for column in ALL_COLUMNS:
        assert_matches(column, [getattr(state.latest, column)], full[column][-1:], rtol=1e-8)
    cached = latest_indicators_get("binance", "ETHBTC", "5m")
    assert cached == state.latest.as_dict()


def test_warm_up_with_few_candles_shows_null_not_numbers(candle_bars: dict[str, list[Bar]]) -> None:
    store_bars(candle_bars[ETH][:20])
    state = engine_warm_up(exchange="binance", symbol="ETHBTC", timeframe="5m")
    assert state.count == 20
    cached = latest_indicators_get("binance", "ETHBTC", "5m")
    assert cached["rsi"] is not None and cached["bb_middle"] is not None
    assert cached["macd"] is None and cached["macd_signal"] is None


def test_warm_up_without_candles_caches_nothing() -> None:
    state = engine_warm_up(exchange="kucoin", symbol="BTCUSDT", timeframe="1h")
    assert state.latest is None
    assert latest_indicators_get("kucoin", "BTCUSDT", "1h") is None


def test_a_closed_candle_updates_engine_and_cache(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars[ETH][:400]
    store_bars(bars[:399])
    engine = IndicatorEngine()
    engine_warm_up(exchange="binance", symbol="ETHBTC", timeframe="5m", engine=engine)
    values = indicators_candle_closed(
        engine=engine, exchange="binance", symbol="ETHBTC", timeframe="5m", candle=bars[399]
    )
    assert values.open_time_ms == bars[399].open_time_ms
    assert latest_indicators_get("binance", "ETHBTC", "5m") == values.as_dict()
