"""Candle intervals of both venues: names, alignment, and the calendar month.

Every interval but the month has a fixed length; ``1M`` (KuCoin ``1month``) opens on the
first millisecond of each UTC calendar month, so its length is 28 to 31 days. Callers step
through buckets with ``next_open``/``opens_*`` instead of adding a length.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from .model import MINUTE_MS

SECOND_MS = 1000
DAY_MS = 86_400_000
MONTH = "1M"
# name -> (length ms, alignment offset ms). Weeks open on Monday; 1970-01-01 was a Thursday.
FIXED_INTERVALS: dict[str, tuple[int, int]] = {
    "1s": (SECOND_MS, 0),
    "1m": (MINUTE_MS, 0),
    "3m": (3 * MINUTE_MS, 0),
    "5m": (5 * MINUTE_MS, 0),
    "15m": (15 * MINUTE_MS, 0),
    "30m": (30 * MINUTE_MS, 0),
    "1h": (60 * MINUTE_MS, 0),
    "2h": (120 * MINUTE_MS, 0),
    "4h": (240 * MINUTE_MS, 0),
    "6h": (360 * MINUTE_MS, 0),
    "8h": (480 * MINUTE_MS, 0),
    "12h": (720 * MINUTE_MS, 0),
    "1d": (DAY_MS, 0),
    "3d": (3 * DAY_MS, 0),
    "1w": (7 * DAY_MS, 4 * DAY_MS),
}
# Binance's interval list (web-socket-streams.md, rest-api.md "Kline/Candlestick chart intervals").
BINANCE_INTERVALS: tuple[str, ...] = (*FIXED_INTERVALS, MONTH)
# KuCoin REST candle types (universal SDK spec, GET /api/v1/market/candles) -> Binance names.
KUCOIN_TYPES: dict[str, str] = {
    "1min": "1m",
    "3min": "3m",
    "5min": "5m",
    "15min": "15m",
    "30min": "30m",
    "1hour": "1h",
    "2hour": "2h",
    "4hour": "4h",
    "6hour": "6h",
    "8hour": "8h",
    "12hour": "12h",
    "1day": "1d",
    "1week": "1w",
    "1month": MONTH,
}
TO_KUCOIN_TYPE = {v: k for k, v in KUCOIN_TYPES.items()}
# The WS candle topic: no documented list in the spec; the legacy list ends at 1week, so a
# monthly topic is refused [unknown: stricter choice].
KUCOIN_WS_TYPES = {k: v for k, v in KUCOIN_TYPES.items() if v != MONTH}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _month_index(ts: int) -> int:
    moment = _EPOCH + timedelta(milliseconds=ts)
    return moment.year * 12 + moment.month - 1


def _month_open(index: int) -> int:
    return calendar.timegm((index // 12, index % 12 + 1, 1, 0, 0, 0)) * 1000


def align(ts: int, interval: str) -> int:
    """The open time of the bucket that contains ``ts``."""
    if interval == MONTH:
        return _month_open(_month_index(ts))
    length, offset = FIXED_INTERVALS[interval]
    return ts - ((ts - offset) % length)


def next_open(open_ms: int, interval: str) -> int:
    """The open time of the bucket after the one opening at ``open_ms`` (its close + 1 ms)."""
    if interval == MONTH:
        return _month_open(_month_index(open_ms) + 1)
    return open_ms + FIXED_INTERVALS[interval][0]


def shift(open_ms: int, interval: str, buckets: int) -> int:
    """The open time ``buckets`` buckets later (earlier when negative)."""
    if interval == MONTH:
        return _month_open(_month_index(open_ms) + buckets)
    return open_ms + buckets * FIXED_INTERVALS[interval][0]


def opens_from(interval: str, first: int, last: int, limit: int) -> list[int]:
    """Up to ``limit`` aligned open times from ``first`` (aligned) to ``last`` inclusive."""
    if interval != MONTH:
        length = FIXED_INTERVALS[interval][0]
        return list(range(first, min(last, first + (limit - 1) * length) + 1, length))
    out: list[int] = []
    while first <= last and len(out) < limit:
        out.append(first)
        first = next_open(first, MONTH)
    return out


def opens_until(interval: str, last: int, limit: int) -> list[int]:
    """The ``limit`` aligned open times ending with ``last`` (aligned)."""
    return opens_from(interval, shift(last, interval, -(limit - 1)), last, limit)


def bucket_count(interval: str, first: int, last: int) -> int:
    """How many buckets open in [align(first), align(last)]."""
    if interval == MONTH:
        return _month_index(last) - _month_index(first) + 1
    length, offset = FIXED_INTERVALS[interval]
    return (align(last, interval) - align(first, interval)) // length + 1
