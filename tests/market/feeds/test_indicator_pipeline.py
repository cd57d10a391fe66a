"""One indicator pipeline: the values a feed pushes (and the chart draws) equal TA-Lib on the
stored candles and the chart history's batch values, from the first push after a start
(the engine is rebuilt from stored candles, not started empty) and after a restart that
missed candles (the REST fill's candles are in the state, not skipped)."""

from __future__ import annotations

import math
import time

import pytest

from apps.market.indicators.engine import ALL_COLUMNS, IndicatorParams
from apps.market.indicators.selectors import candle_bars_recent, indicator_series_get
from tests.market.indicators.helpers import talib_reference

from .helpers import start_feed, wait_covered, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SYMBOL = "BTCUSDT"
TIMEFRAMES_CHECKED = ("1m", "5m")
RTOL = 1e-6


def _assert_same(name: str, ours: float | None, reference: float | None) -> None:
    if reference is None or math.isnan(reference):
        assert ours is None, f"{name}: {ours!r} where the reference is still warming up"
        return
    assert ours is not None, f"{name}: None where the reference has {reference!r}"
    assert abs(ours - reference) <= RTOL * abs(reference) + 1e-9, f"{name}: {ours!r} vs {reference!r}"


def _assert_live_equals_references(runner, timeframe: str) -> dict:
    live = runner.hub.indicators_latest(SYMBOL, timeframe)
    assert live is not None, f"no live {timeframe} values"
    at = live["open_time_ms"]
    bars = candle_bars_recent(exchange="binance", symbol=SYMBOL, timeframe=timeframe, count=5000, before_ms=at + 1)
    assert bars and bars[-1].open_time_ms == at, "the live values are of a candle that is not stored"
    talib = {column: float(values[-1]) for column, values in talib_reference(bars).items()}
    (history,) = indicator_series_get(exchange="binance", symbol=SYMBOL, timeframe=timeframe, start_ms=at, end_ms=at)
    for column in ALL_COLUMNS:
        _assert_same(f"{timeframe} {column} vs TA-Lib", live[column], talib[column])
        _assert_same(f"{timeframe} {column} vs the chart history", live[column], history[column])
    return live


def test_pushed_indicators_equal_talib_and_the_chart_history(exchange_sim_factory):
    sim = exchange_sim_factory(seed=5, clock_speed=60.0, symbols=[SYMBOL])
    warmup = IndicatorParams().warmup_candles()
    runner = start_feed(sim, "binance", symbols=[SYMBOL], backfill_candles=warmup + 50)
    try:
        wait_covered(runner, sim, timeout=30)
        for timeframe in TIMEFRAMES_CHECKED:  # right after the backfill, before any streamed close
            _assert_live_equals_references(runner, timeframe)
        before = runner.hub.indicators_latest(SYMBOL, "1m")["open_time_ms"]
        assert wait_for(lambda: runner.hub.indicators_latest(SYMBOL, "1m")["open_time_ms"] > before + 60_000, 30)
        assert wait_for(lambda: _stored_upto(runner.hub.indicators_latest(SYMBOL, "1m")["open_time_ms"]), 10)
        _assert_live_equals_references(runner, "1m")  # after streamed closes
    finally:
        runner.stop()

    # A restart after an outage: the candles in between come from the REST fill only.
    time.sleep(3)  # 3 simulated minutes at 60x
    again = start_feed(sim, "binance", symbols=[SYMBOL], backfill_candles=warmup + 50)
    try:
        wait_covered(again, sim, timeout=30)
        for timeframe in TIMEFRAMES_CHECKED:
            _assert_live_equals_references(again, timeframe)
    finally:
        again.stop()


def _stored_upto(open_time_ms: int) -> bool:
    bars = candle_bars_recent(exchange="binance", symbol=SYMBOL, timeframe="1m", count=1)
    return bool(bars) and bars[-1].open_time_ms >= open_time_ms
