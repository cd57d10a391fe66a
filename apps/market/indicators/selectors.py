"""Reads: stored candles as engine input, the cached latest values, chart series."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from django.core.cache import cache

from apps.market.indicators.batch import indicator_frame
from apps.market.indicators.engine import ALL_COLUMNS, Bar, IndicatorParams
from apps.market.models import Candle

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SERIES_MAX_CANDLES = 5000


def latest_cache_key(exchange: str, symbol: str, timeframe: str) -> str:
    return f"indicators:latest:{exchange}:{symbol}:{timeframe}"


def latest_indicators_get(exchange: str, symbol: str, timeframe: str) -> dict[str, Any] | None:
    """The values after the last closed candle (``open_time_ms`` + one key per indicator,
    None while warming up), or None when nothing has been computed for this key."""
    return cache.get(latest_cache_key(exchange, symbol, timeframe))


def to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _bar(candle: Candle) -> Bar:
    return Bar(
        to_ms(candle.open_time),
        float(candle.open),
        float(candle.high),
        float(candle.low),
        float(candle.close),
        float(candle.volume),
    )


def candle_bars_recent(
    *, exchange: str, symbol: str, timeframe: str, count: int, before_ms: int | None = None
) -> list[Bar]:
    """The latest ``count`` stored candles (optionally strictly before ``before_ms``), oldest first."""
    if count <= 0:
        return []
    rows = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)
    if before_ms is not None:
        rows = rows.filter(open_time__lt=from_ms(before_ms))
    latest = rows.order_by("-open_time")[:count]
    return [_bar(candle) for candle in reversed(list(latest))]


def candle_bars_range(
    *, exchange: str, symbol: str, timeframe: str, start_ms: int | None, end_ms: int | None, limit: int
) -> list[Bar]:
    """Stored candles with start_ms <= open time <= end_ms, oldest first, at most ``limit``
    (the most recent ones when no start is given)."""
    rows = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)
    if start_ms is not None:
        rows = rows.filter(open_time__gte=from_ms(start_ms))
    if end_ms is not None:
        rows = rows.filter(open_time__lte=from_ms(end_ms))
    if start_ms is None:
        return [_bar(c) for c in reversed(list(rows.order_by("-open_time")[:limit]))]
    return [_bar(c) for c in rows.order_by("open_time")[:limit]]


def _json_number(value: Any) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def indicator_series_get(
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = 500,
    params: IndicatorParams | None = None,
) -> list[dict[str, Any]]:
    """Indicator values per stored candle in the range, for charts (batch path).

    The warm-up candles before the range are read too, so the first values in the range are
    the same as a live engine's; values are None where even those are not enough."""
    params = params or IndicatorParams()
    limit = max(1, min(limit, SERIES_MAX_CANDLES))
    bars = candle_bars_range(
        exchange=exchange, symbol=symbol, timeframe=timeframe, start_ms=start_ms, end_ms=end_ms, limit=limit
    )
    if not bars:
        return []
    history = candle_bars_recent(
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        count=params.warmup_candles(),
        before_ms=bars[0].open_time_ms,
    )
    frame = indicator_frame(pd.DataFrame([*history, *bars], columns=list(Bar._fields)), params)
    rows = frame.iloc[len(history) :]
    return [
        {"open_time_ms": int(t), **{c: _json_number(v) for c, v in zip(ALL_COLUMNS, values, strict=True)}}
        for t, values in zip(rows["open_time_ms"], rows[list(ALL_COLUMNS)].itertuples(index=False), strict=True)
    ]
