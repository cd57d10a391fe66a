"""REST request weights and the answers of an exhausted quota (pure; the middlewares apply them).

Windows run on the wall clock (a fast simulated clock must not shorten the exchange's minute).
Binance: per-endpoint weights (rest-api.md) in a REQUEST_WEIGHT window per IP, 429 with
Retry-After when over, and a 418 ban (Retry-After = the ban) for a client that keeps calling
inside a 429's Retry-After. KuCoin: per-endpoint weights drawn from resource pools (Public
2000 per 30 s at VIP0, from the first request of the period), gw-ratelimit-* headers on every
answer, 429 with code 429000 when a pool is spent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping

from .limits import BinanceLimits, KucoinLimits

# -- Binance ---------------------------------------------------------------------------------
_BINANCE_WEIGHTS = {
    "/api/v3/ping": 1,
    "/api/v3/time": 1,
    "/api/v3/exchangeInfo": 20,
    "/api/v3/klines": 2,
    "/api/v3/uiKlines": 2,
    "/api/v3/trades": 25,
    "/api/v3/historicalTrades": 25,
    "/api/v3/aggTrades": 4,
    "/api/v3/avgPrice": 2,
    "/api/v3/account/commission": 20,
    "/sapi/v1/account/apiRestrictions": 1,
    "/sapi/v1/asset/tradeFee": 1,
    "/sapi/v1/system/status": 1,
}
UNKNOWN_PATH_WEIGHT = 1


def _symbol_count(query: Mapping[str, str]) -> int | None:
    """1 for ``symbol``, the list's length for ``symbols``, None for neither (all symbols)."""
    if "symbol" in query:
        return 1
    if "symbols" in query:
        try:
            return len(json.loads(query["symbols"]))
        except (ValueError, TypeError):
            return 1  # refused by the endpoint anyway
    return None


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        return default


def binance_weight(path: str, query: Mapping[str, str]) -> int:
    if path == "/api/v3/depth":
        limit = _int(query, "limit", 100)
        return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    if path == "/api/v3/ticker/24hr":
        count = _symbol_count(query)
        if count is None:
            return 80
        if "symbol" in query:
            return 2
        return 2 if count <= 20 else 40 if count <= 100 else 80
    if path in ("/api/v3/ticker/price", "/api/v3/ticker/bookTicker"):
        return 2 if "symbol" in query else 4
    if path == "/api/v3/ticker/tradingDay":
        return min(4 * (_symbol_count(query) or 1), 200)
    return _BINANCE_WEIGHTS.get(path, UNKNOWN_PATH_WEIGHT)


class WeightWindow:
    """Weight used in fixed windows aligned to multiples of ``window_ms`` (Binance's 1M counter)."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._window = -1
        self.used = 0

    def add(self, weight: int, now_ms: int) -> int:
        window = now_ms // self.window_ms
        if window != self._window:
            self._window, self.used = window, 0
        self.used += weight
        return self.used

    def ms_left(self, now_ms: int) -> int:
        return self.window_ms - now_ms % self.window_ms


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    status: int  # 200 = go on
    used: int
    retry_after_s: int = 0


class BinanceWeightGuard:
    """``admit`` counts a request's weight and says whether it may run. Wall-clock ms throughout:
    a fast simulated clock must not make the exchange's minute shorter."""

    def __init__(self, limits: BinanceLimits) -> None:
        self.limits = limits
        self.window = WeightWindow(limits.weight_window_ms)
        self.backoff_until = 0  # the last 429's Retry-After
        self.inside_backoff = 0
        self.banned_until = 0
        self.bans = 0

    def admit(self, weight: int, now_ms: int) -> Verdict:
        used = self.window.add(weight, now_ms)
        if now_ms < self.banned_until:
            return Verdict(418, used, _ceil_s((self.banned_until - now_ms) / 1000))
        if now_ms < self.backoff_until:
            self.inside_backoff += 1
            if self.inside_backoff > self.limits.requests_after_429:
                return Verdict(418, used, self._ban(now_ms))
        if used <= self.limits.weight_limit:
            return Verdict(200, used)
        retry = _ceil_s(self.window.ms_left(now_ms) / 1000)
        if now_ms >= self.backoff_until:
            self.inside_backoff = 0
        self.backoff_until = max(self.backoff_until, now_ms + retry * 1000)
        return Verdict(429, used, retry)

    def _ban(self, now_ms: int) -> int:
        seconds = min(self.limits.ban_s * 2**self.bans, self.limits.ban_max_s)
        self.bans += 1
        self.banned_until = now_ms + int(seconds * 1000)
        self.backoff_until, self.inside_backoff = 0, 0
        return _ceil_s(seconds)


def binance_rate_limits(limits: BinanceLimits) -> list[dict[str, object]]:
    """exchangeInfo's rateLimits, with the weight limit this simulator enforces."""
    window_s = limits.weight_window_ms // 1000
    interval, num = ("MINUTE", window_s // 60) if window_s % 60 == 0 else ("SECOND", window_s)
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": interval, "intervalNum": num, "limit": limits.weight_limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]


def binance_limit_message(limits: BinanceLimits, verdict: Verdict) -> str:
    if verdict.status == 418:
        return "Way too much request weight used; IP banned until later."
    return (
        f"Too much request weight used; current limit is {limits.weight_limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )


def _ceil_s(seconds: float) -> int:
    return max(1, int(-(-seconds // 1)))


# -- KuCoin ----------------------------------------------------------------------------------
# (pool, weight) from the universal SDK's spec (x-api-rate-limit-pool / -weight).
_KUCOIN_WEIGHTS = {
    "/api/v1/bullet-public": ("Public", 10),
    "/api/v1/timestamp": ("Public", 3),
    "/api/v1/status": ("Public", 3),
    "/api/v2/symbols": ("Public", 4),
    "/api/v1/symbols": ("Public", 4),  # the legacy list: as v2
    "/api/v3/currencies": ("Public", 3),
    "/api/v1/market/candles": ("Public", 3),
    "/api/v1/market/stats": ("Public", 15),
    "/api/v1/market/allTickers": ("Public", 15),
    "/api/v1/market/orderbook/level1": ("Public", 2),
    "/api/v1/market/histories": ("Public", 3),
    "/api/v1/prices": ("Public", 3),
    "/api/v1/markets": ("Public", 3),
    "/api/v1/base-fee": ("Spot", 3),
    "/api/v1/trade-fees": ("Spot", 3),
    "/api/v1/user/api-key": ("Management", 20),
    "/api/v2/user-info": ("Management", 20),
}
_KUCOIN_PREFIXES = (
    (re.compile(r"^/api/v2/symbols/[^/]+$"), ("Public", 4)),
    (re.compile(r"^/api/v3/currencies/[^/]+$"), ("Public", 3)),
    (re.compile(r"^/api/v1/market/orderbook/level2_\d+$"), ("Public", 2)),
    (re.compile(r"^/api/v3/market/orderbook/level2$"), ("Spot", 3)),
)
KUCOIN_UNKNOWN = ("Public", 3)  # [unknown] a path the spec does not list


def kucoin_weight(path: str) -> tuple[str, int]:
    found = _KUCOIN_WEIGHTS.get(path)
    if found is not None:
        return found
    for pattern, value in _KUCOIN_PREFIXES:
        if pattern.match(path):
            return value
    return KUCOIN_UNKNOWN


class PoolWindow:
    """A quota that starts counting at the first request and returns whole ``window_ms`` later."""

    def __init__(self, limit: int, window_ms: int) -> None:
        self.limit, self.window_ms = limit, window_ms
        self.started = -1
        self.used = 0

    def add(self, weight: int, now_ms: int) -> int:
        if self.started < 0 or now_ms - self.started >= self.window_ms:
            self.started, self.used = now_ms, 0
        self.used += weight
        return self.used

    def ms_left(self, now_ms: int) -> int:
        return max(0, self.started + self.window_ms - now_ms) if self.started >= 0 else self.window_ms


class KucoinPools:
    def __init__(self, limits: KucoinLimits) -> None:
        self.pools = {name: PoolWindow(limit, limits.pool_window_ms) for name, limit in limits.pool_limits}

    def admit(self, path: str, now_ms: int) -> tuple[PoolWindow, bool]:
        """Draw the path's weight from its pool: (the pool, whether the quota still covered it)."""
        name, weight = kucoin_weight(path)
        pool = self.pools[name]
        return pool, pool.add(weight, now_ms) <= pool.limit
