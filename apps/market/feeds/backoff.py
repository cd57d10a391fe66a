"""Reconnect back-off and REST pacing (pure timing logic; the caller sleeps)."""

from __future__ import annotations

import random
import time


class Backoff:
    """Exponential back-off with full jitter: delay n is uniform in [base, min(cap, base*2**n)]."""

    def __init__(self, *, base: float = 0.25, cap: float = 30.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()  # nosec B311 - retry jitter, not security

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return self.base + self._rng.random() * max(ceiling - self.base, 0.0)

    def reset(self) -> None:
        self.attempt = 0


class RestPacer:
    """At most ``rate`` calls per second, and nothing before a Retry-After has expired."""

    def __init__(self, *, rate: float, clock=time.monotonic):  # type: ignore[no-untyped-def]
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0
        self.blocked_until = 0.0

    def delay(self) -> float:
        """Seconds to wait before the next call; reserves the slot."""
        now = self._clock()
        start = max(now, self._next, self.blocked_until)
        self._next = start + self.interval
        return start - now

    def block(self, seconds: float) -> None:
        """A 429/418 told us to keep off for ``seconds``."""
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)
