"""Writes: rebuilding engine state from stored candles and caching the latest values."""

from __future__ import annotations

from django.core.cache import cache

from apps.market.feeds.symbols import TIMEFRAME_MS
from apps.market.indicators.engine import CandleLike, IndicatorEngine, IndicatorParams, IndicatorState, IndicatorValues
from apps.market.indicators.selectors import candle_bars_recent, latest_cache_key

# Latest values outlive a few candles, not a dead feed: stale numbers must disappear.
_MIN_CACHE_SECONDS = 300


def _cache_timeout(timeframe: str) -> int:
    return max(_MIN_CACHE_SECONDS, 3 * TIMEFRAME_MS.get(timeframe, 60_000) // 1000)


def latest_indicators_store(*, exchange: str, symbol: str, timeframe: str, values: IndicatorValues) -> None:
    cache.set(latest_cache_key(exchange, symbol, timeframe), values.as_dict(), timeout=_cache_timeout(timeframe))


def engine_warm_up(
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    engine: IndicatorEngine | None = None,
    params: IndicatorParams | None = None,
) -> IndicatorState:
    """Rebuild one key's state from the latest ``params.warmup_candles()`` stored candles
    (enough for EMA/Wilder seeds to fade below 1e-9), install it in ``engine`` when given,
    and cache the latest values."""
    params = params or (engine.params if engine is not None else IndicatorParams())
    state = IndicatorState(params)
    bars = candle_bars_recent(exchange=exchange, symbol=symbol, timeframe=timeframe, count=params.warmup_candles())
    for bar in bars:
        state.update(bar)
    if engine is not None:
        engine.install(exchange, symbol, timeframe, state)
    if state.latest is not None:
        latest_indicators_store(exchange=exchange, symbol=symbol, timeframe=timeframe, values=state.latest)
    return state


def indicators_candle_closed(
    *, engine: IndicatorEngine, exchange: str, symbol: str, timeframe: str, candle: CandleLike
) -> IndicatorValues:
    """Feed one closed candle (e.g. a closed KlineEvent from the aggregator) and cache the result."""
    values = engine.update(exchange, symbol, timeframe, candle)
    latest_indicators_store(exchange=exchange, symbol=symbol, timeframe=timeframe, values=values)
    return values
