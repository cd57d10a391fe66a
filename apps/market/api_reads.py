"""Reads behind the hottest market endpoints, kept briefly in process memory.

Candles: rows straight from the (exchange, symbol, timeframe, -open_time) index as plain
dicts; the latest ones per (exchange, symbol, timeframe, limit) for API_CANDLES_CACHE_SECONDS
(1 s). Charts poll the latest candles of the same few markets and a closed candle appears at
most once a timeframe, so a second of staleness costs nothing and saves the query and the
formatting. Ticker: the shared cache's copy for API_TICKER_CACHE_SECONDS (0.1 s), well under
the feed hub's own flush interval. Under a server whose sync views share one thread, every
avoided round trip is a wait the other requests do not queue behind."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from rest_framework import serializers

from apps.core.api_serializers import money_str
from apps.market.models import Candle

_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades")
_MAX_ENTRIES = 64  # at most 64 x 1000 rows in memory
_latest: dict[tuple[str, str, str, int], tuple[float, list[dict[str, Any]]]] = {}
_lock = threading.Lock()
# The field the serializer would use, so times print exactly as elsewhere in the API ("...Z").
_TIME = serializers.DateTimeField()


def market_api_cache_clear() -> None:
    with _lock:
        _latest.clear()
        _tickers.clear()


def _row(values: tuple) -> dict[str, Any]:
    open_time, open_, high, low, close, volume, quote_volume, trades = values
    return {
        "open_time": _TIME.to_representation(open_time),
        "open": money_str(open_),
        "high": money_str(high),
        "low": money_str(low),
        "close": money_str(close),
        "volume": money_str(volume),
        "quote_volume": money_str(quote_volume),
        "trades": trades,
    }


def _query(
    *, exchange: str, symbol: str, timeframe: str, limit: int, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    rows = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)
    if end is not None:
        rows = rows.filter(open_time__lte=end)
    if start is not None:
        return [_row(v) for v in rows.filter(open_time__gte=start).order_by("open_time").values_list(*_COLUMNS)[:limit]]
    # Newest first walks the index backwards and stops after `limit` rows; then oldest first.
    latest = [_row(v) for v in rows.order_by("-open_time").values_list(*_COLUMNS)[:limit]]
    latest.reverse()
    return latest


def candle_rows_get(
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    limit: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Closed candles as API dicts, oldest first (see MarketCandleListApi)."""
    ttl = float(getattr(settings, "API_CANDLES_CACHE_SECONDS", 1.0))
    if start is not None or end is not None or ttl <= 0:
        return _query(exchange=exchange, symbol=symbol, timeframe=timeframe, limit=limit, start=start, end=end)
    key = (exchange, symbol, timeframe, limit)
    now = time.monotonic()
    hit = _latest.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = _query(exchange=exchange, symbol=symbol, timeframe=timeframe, limit=limit, start=None, end=None)
    with _lock:
        if len(_latest) >= _MAX_ENTRIES:
            for stale in [k for k, (expires, _) in _latest.items() if expires <= now]:
                del _latest[stale]
            if len(_latest) >= _MAX_ENTRIES:
                _latest.clear()
        _latest[key] = (now + ttl, rows)
    return rows


# ---- the ticker: the feed hub rewrites it every MARKET_CACHE_FLUSH_MS (200 ms); serving it
# from memory for a fraction of that saves the cache round trip on most requests. ----------

_tickers: dict[tuple[str, str], tuple[float, Any]] = {}


def ticker_latest_get(*, exchange: str, symbol: str) -> Any:
    """The latest TickerEvent from the shared cache, or None; at most API_TICKER_CACHE_SECONDS
    older than the cache's copy (absent tickers are never remembered)."""
    from apps.market.cache import ticker_get

    ttl = float(getattr(settings, "API_TICKER_CACHE_SECONDS", 0.1))
    if ttl <= 0:
        return ticker_get(exchange, symbol)
    now = time.monotonic()
    hit = _tickers.get((exchange, symbol))
    if hit is not None and hit[0] > now:
        return hit[1]
    ticker = ticker_get(exchange, symbol)
    if ticker is not None:
        with _lock:
            if len(_tickers) >= 4 * _MAX_ENTRIES:
                _tickers.clear()
            _tickers[(exchange, symbol)] = (now + ttl, ticker)
    return ticker
