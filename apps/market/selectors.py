"""Market reads: stored candles, which symbols a feed streams, gaps."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Max

from apps.market.feeds.symbols import TIMEFRAME_MS
from apps.market.models import Candle, Instrument
from apps.market.services import ms_to_dt


def dt_to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def feed_symbols(*, exchange: str) -> list[str]:
    """Active instruments of the exchange (admin-editable), else MARKET_SYMBOLS."""
    active = list(Instrument.objects.filter(exchange=exchange, is_active=True).values_list("symbol", flat=True))
    return sorted(active) if active else list(settings.MARKET_SYMBOLS)


def candle_last_open_map(*, exchange: str, symbols: list[str]) -> dict[tuple[str, str], int]:
    """(symbol, timeframe) -> open time (ms) of the newest stored candle."""
    rows = (
        Candle.objects.filter(exchange=exchange, symbol__in=symbols)
        .values("symbol", "timeframe")
        .annotate(last=Max("open_time"))
    )
    return {(r["symbol"], r["timeframe"]): dt_to_ms(r["last"]) for r in rows}


def candle_list(
    *, exchange: str, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None
) -> list[Candle]:
    qs = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)
    if start_ms is not None:
        qs = qs.filter(open_time__gte=ms_to_dt(start_ms))
    if end_ms is not None:
        qs = qs.filter(open_time__lte=ms_to_dt(end_ms))
    return list(qs.order_by("open_time"))


def candle_gaps(*, exchange: str, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[int]:
    """Open times (ms) in [start, end] with no stored candle."""
    have = {
        dt_to_ms(t)
        for t in Candle.objects.filter(
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            open_time__gte=ms_to_dt(start_ms),
            open_time__lte=ms_to_dt(end_ms),
        ).values_list("open_time", flat=True)
    }
    step = TIMEFRAME_MS[timeframe]
    first = start_ms - start_ms % step
    return [t for t in range(first, end_ms + 1, step) if t >= start_ms and t not in have]
