"""Per-user and per-anonymous-IP throttling on shared cache counters, cheap per request.

DRF's stock throttles keep every request's timestamp in a cached list: a read and a write of
a list that grows to the rate (1200 entries at 1200/min) on every request, and concurrent
requests overwrite each other's updates. These count requests in fixed windows of the rate's
duration, with an atomic INCRBY on a shared counter per (client, window).

Far from its limit a client's requests are counted in this process and added to the shared
counter in batches (at most 1/50 of the limit, at most 50), so most requests make no cache
round trip at all; within a batch of the limit every request is added at once. Across P
processes a client can therefore exceed the limit by at most P batches (2% of it each), and
burst up to twice the rate across a window boundary: the rate is an abuse limit, not a quota.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request

from apps.core.client_ip import client_ip

_MAX_BATCH = 50
_MAX_LOCAL_KEYS = 4096
_redis_clients: dict[int, Any] = {}
# counter key -> [requests not yet added to the shared counter, shared count last seen]
_local: dict[str, list[int]] = {}
_local_lock = threading.Lock()


def _redis_client(backend: RedisCache, key: str) -> Any:
    # Django builds a new redis.Redis (and its 170-entry callback table) on every cache call;
    # one client per connection pool does the same job (clients are thread-safe).
    try:
        pool = backend._cache._get_connection_pool(write=True)
    except AttributeError:  # a Django without these internals: the public path
        return backend._cache.get_client(key, write=True)
    client = _redis_clients.get(id(pool))
    if client is None:
        client = _redis_clients[id(pool)] = backend._cache._client(connection_pool=pool)
    return client


def counter_add(key: str, *, amount: int = 1, timeout: int) -> int:
    """Add ``amount`` to the shared counter ``key`` (created with ``timeout`` seconds to
    live); the new total."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = _redis_client(backend, full_key)
        total = int(client.incrby(full_key, amount))
        if total == amount:
            # Only the window's first addition sets the expiry (one round trip for the rest).
            # Were it lost, the key would merely linger: the next window uses a new key.
            client.expire(full_key, timeout)
        return total
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key, amount)
    except ValueError:  # expired between add and incr
        backend.add(key, amount, timeout=timeout)
        return amount


def batch_size(limit: int) -> int:
    return max(1, min(_MAX_BATCH, limit // 50))


def window_admit(key: str, *, limit: int, timeout: int) -> bool:
    """Count one request against ``limit`` for the window counter ``key``; True if allowed."""
    batch = batch_size(limit)
    with _local_lock:
        state = _local.get(key)
        if state is None:
            if len(_local) >= _MAX_LOCAL_KEYS:
                _local.clear()  # old windows' keys; at most a batch per client goes uncounted
            state = _local[key] = [0, 0]
        state[0] += 1
        estimate = state[1] + state[0]
        if state[0] < batch and estimate + batch <= limit:
            return True
        pending, state[0] = state[0], 0
    total = counter_add(key, amount=pending, timeout=timeout)
    with _local_lock:
        state[1] = max(state[1], total)
    return total <= limit


def throttle_local_clear() -> None:
    with _local_lock:
        _local.clear()


class _FixedWindowMixin:
    rate: str | None
    num_requests: int
    duration: int
    _retry_after: float = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self._retry_after = (window + 1) * self.duration - now
        return window_admit(f"{key}:w{window}", limit=self.num_requests, timeout=self.duration + 1)

    def wait(self) -> float:
        return max(self._retry_after, 1.0)

    def get_ident(self, request: Request) -> str:
        # DRF's own reads X-Forwarded-For whole, so every forged value was a fresh budget.
        return client_ip(request) or "-"


class UserRateThrottle(_FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in users, by user id (anonymous requests: by IP, as DRF's)."""


class AnonRateThrottle(_FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous requests, by client IP."""
