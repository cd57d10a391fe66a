"""Market writes: candles (idempotent upsert), instruments, retention."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.market.events import KlineEvent
from apps.market.models import Candle, Instrument

_CANDLE_UPDATE = ["open", "high", "low", "close", "volume", "quote_volume", "trades"]
_INSTRUMENT_UPDATE = [
    "exchange_symbol",
    "base_asset",
    "quote_asset",
    "status",
    "tick_size",
    "step_size",
    "min_qty",
    "max_qty",
    "min_notional",
]


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def candles_upsert(*, candles: Iterable[KlineEvent], batch_size: int = 1000) -> int:
    """Insert or overwrite closed candles on (exchange, symbol, timeframe, open_time): the same
    candle delivered twice (stream + REST backfill, or a restarted feed) stays one row."""
    rows = {}
    for c in candles:
        # Last one wins inside a batch: Postgres refuses two updates of one row per statement.
        rows[(c.exchange, c.symbol, c.timeframe, c.open_time_ms)] = Candle(
            exchange=c.exchange,
            symbol=c.symbol,
            timeframe=c.timeframe,
            open_time=ms_to_dt(c.open_time_ms),
            open=c.open,
            high=c.high,
            low=c.low,
            close=c.close,
            volume=c.volume,
            quote_volume=c.quote_volume,
        )
    if not rows:
        return 0
    Candle.objects.bulk_create(
        list(rows.values()),
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["exchange", "symbol", "timeframe", "open_time"],
        update_fields=_CANDLE_UPDATE,
    )
    return len(rows)


def instruments_sync(*, exchange: str, rows: list[dict[str, Any]]) -> int:
    """Upsert the exchange's instruments. A new instrument is streamed (is_active) only when it
    is one of MARKET_SYMBOLS; an existing one keeps the admin's choice."""
    configured = set(settings.MARKET_SYMBOLS)
    existing = set(Instrument.objects.filter(exchange=exchange).values_list("symbol", flat=True))
    objs = [
        Instrument(exchange=exchange, is_active=row["symbol"] in configured or row["symbol"] in existing, **row)
        for row in rows
    ]
    with transaction.atomic():
        Instrument.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["exchange", "symbol"],
            update_fields=_INSTRUMENT_UPDATE,
        )
    return len(objs)


def candles_retention_apply(*, days: int | None = None) -> int:
    """Delete candles older than the retention window (MARKET_RETENTION_DAYS)."""
    cutoff = timezone.now() - timedelta(days=days or settings.MARKET_RETENTION_DAYS)
    deleted, _ = Candle.objects.filter(open_time__lt=cutoff).delete()
    return deleted
