"""Latest market state per (exchange, symbol): Redis in production, locmem in embedded mode.

Written by the feed hub (coalesced, every MARKET_CACHE_FLUSH_MS) and invalidated on
reconnect. Read by anyone: ``book_get``, ``ticker_get``, ``forming_candle_get``,
``recent_trades_get``, ``feed_status_get``, ``backfill_progress_get``.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from apps.market.events import BookSnapshot, KlineEvent, TickerEvent, TradeEvent
from apps.market.feeds.symbols import TIMEFRAMES

# State older than this is worse than none: a dead feed must not serve old prices forever.
STATE_TIMEOUT_S = 300


def cache_key(exchange: str, symbol: str, kind: str) -> str:
    return f"mkt:{exchange}:{symbol}:{kind}"


def _status_key(exchange: str) -> str:
    return f"mkt:status:{exchange}"


def book_get(exchange: str, symbol: str) -> BookSnapshot | None:
    return cache.get(cache_key(exchange, symbol, "book"))


def ticker_get(exchange: str, symbol: str) -> TickerEvent | None:
    return cache.get(cache_key(exchange, symbol, "ticker"))


def forming_candle_get(exchange: str, symbol: str, timeframe: str) -> KlineEvent | None:
    return cache.get(cache_key(exchange, symbol, f"candle:{timeframe}"))


def recent_trades_get(exchange: str, symbol: str, limit: int = 50) -> list[TradeEvent]:
    """Newest first."""
    trades = cache.get(cache_key(exchange, symbol, "trades")) or []
    return list(reversed(trades[-limit:]))


def cache_write_many(items: dict[str, Any]) -> None:
    if items:
        cache.set_many(items, timeout=STATE_TIMEOUT_S)


def cache_invalidate(exchange: str, symbols: list[str]) -> None:
    kinds = ["book", "ticker", "trades"] + [f"candle:{tf}" for tf in TIMEFRAMES]
    cache.delete_many([cache_key(exchange, s, k) for s in symbols for k in kinds])


def feed_status_set(exchange: str, **fields: Any) -> None:
    status = cache.get(_status_key(exchange)) or {}
    status.update(fields, updated_at=time.time())
    cache.set(_status_key(exchange), status, timeout=None)


def feed_status_get(exchange: str) -> dict[str, Any]:
    """state: live | reconnecting | simulated | down; last_message_ts (exchange ms);
    lag_ms (now - last event timestamp); reconnects (since the feed started)."""
    status = dict(cache.get(_status_key(exchange)) or {})
    status.setdefault("state", "down")
    status.setdefault("last_message_ts", None)
    status.setdefault("lag_ms", None)
    status.setdefault("reconnects", 0)
    updated = status.get("updated_at") or 0
    if time.time() - updated > settings.MARKET_FEED_STALE_S * 3:
        status["state"] = "down"  # no heartbeat: the feed process is gone
    return status


def backfill_progress_set(exchange: str, *, done: int, total: int, state: str) -> None:
    cache.set(f"mkt:backfill:{exchange}", {"done": done, "total": total, "state": state}, timeout=None)


def backfill_progress_get(exchange: str) -> dict[str, Any]:
    """{"done": n, "total": m, "state": "idle|running|done|failed"} for the UI."""
    return cache.get(f"mkt:backfill:{exchange}") or {"done": 0, "total": 0, "state": "idle"}
