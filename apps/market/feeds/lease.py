"""Shard lease: no two processes stream the same (exchange, symbol set).

Redis (SET NX PX + compare-and-renew/release scripts) in production, through the cache
backend's own client; an in-process table in embedded mode.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

_local: dict[str, tuple[str, float]] = {}
_local_lock = threading.Lock()


def shard_key(exchange: str, symbols: list[str]) -> str:
    digest = hashlib.sha1(",".join(sorted(symbols)).encode(), usedforsecurity=False).hexdigest()[:12]
    return f"ptp:feeds:lease:{exchange}:{digest}"


class FeedLease:
    def __init__(self, key: str, *, ttl_s: float, client: Any = None, owner: str | None = None):
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.client = client
        self.owner = owner or uuid.uuid4().hex

    def acquire(self) -> bool:
        if self.client is not None:
            return bool(self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms))
        with _local_lock:
            holder = _local.get(self.key)
            if holder and holder[0] != self.owner and holder[1] > time.monotonic():
                return False
            _local[self.key] = (self.owner, time.monotonic() + self.ttl_ms / 1000)
            return True

    def renew(self) -> bool:
        if self.client is not None:
            return bool(self.client.eval(_RENEW, 1, self.key, self.owner, self.ttl_ms))
        with _local_lock:
            holder = _local.get(self.key)
            if not holder or holder[0] != self.owner:
                return False
            _local[self.key] = (self.owner, time.monotonic() + self.ttl_ms / 1000)
            return True

    def release(self) -> None:
        if self.client is not None:
            self.client.eval(_RELEASE, 1, self.key, self.owner)
            return
        with _local_lock:
            if _local.get(self.key, ("",))[0] == self.owner:
                del _local[self.key]


def lease_client() -> Any:
    """The Redis client of the default cache when it is Redis, else None (in-process lease)."""
    from django.core.cache import cache

    inner = getattr(cache, "_cache", None)
    if inner is not None and hasattr(inner, "get_client"):
        return inner.get_client(None, write=True)
    return None
