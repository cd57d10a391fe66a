"""Per-user and per-anonymous-IP throttling with one atomic cache counter per request.

DRF's stock throttles keep every request's timestamp in a cached list: a read and a write of
a list that grows to the rate (1200 entries at 1200/min) on every request, and concurrent
requests overwrite each other's updates. These count requests in fixed windows of the rate's
duration instead: one INCR per request (and an EXPIRE when a window starts).
A client may burst up to twice the rate across a window boundary; the rate is an abuse
limit, not a quota, so that is fine."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request


def counter_hit(key: str, *, timeout: int) -> int:
    """Add one to the counter ``key`` (created with ``timeout`` seconds to live); the new count."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        count = client.incr(full_key)
        if count == 1:
            # Only the window's first request sets the expiry (one round trip for the rest).
            # Were it lost, the key would merely linger: the next window uses a new key.
            client.expire(full_key, timeout)
        return int(count)
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, timeout=timeout)
        return 1


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
        count = counter_hit(f"{key}:w{window}", timeout=self.duration + 1)
        self._retry_after = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return max(self._retry_after, 1.0)


class UserRateThrottle(_FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in users, by user id (anonymous requests: by IP, as DRF's)."""


class AnonRateThrottle(_FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous requests, by client IP."""
