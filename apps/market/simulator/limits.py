"""The exchanges' connection, keep-alive and message-rate rules, as pure objects (no I/O).

Every number defaults to the exchange's documented value (docs/SIMULATOR.md, "Limits") and can
be lowered per simulator (``ExchangeSimulator(limits=Limits(...))``) so a test reaches a limit
with a few symbols and in a second or two. WebSocket rules run on the wall clock (they are about
what a client sends and when); REST weight windows run on the simulated clock (rest_limits.py).
"""

from __future__ import annotations

import dataclasses
from collections import deque


@dataclasses.dataclass(frozen=True, slots=True)
class BinanceLimits:
    ping_interval_s: float = 20.0  # the server pings every 20 s ...
    pong_timeout_s: float = 60.0  # ... and disconnects when no matching pong came within a minute
    incoming_per_s: int = 5  # pings, pongs and JSON control messages all count
    streams_per_connection: int = 1024
    connection_attempts: int = 300  # per IP ...
    connection_window_s: float = 300.0  # ... every 5 minutes
    weight_limit: int = 6000  # REQUEST_WEIGHT per window, per IP
    weight_window_ms: int = 60_000
    requests_after_429: int = 2  # [unknown] requests tolerated inside a 429's Retry-After before a 418
    ban_s: float = 120.0  # the first 418 ban; each further one doubles, up to 3 days
    ban_max_s: float = 3 * 86_400.0


@dataclasses.dataclass(frozen=True, slots=True)
class KucoinLimits:
    ping_interval_ms: int = 18_000  # announced in bullet-public; a client silent for
    ping_timeout_ms: int = 10_000  # interval + timeout is disconnected
    uplink_messages: int = 100  # client messages (pings included) per connection ...
    uplink_window_s: float = 10.0  # ... in any 10 s
    topics_per_subscribe: int = 100  # one symbol of a multi-symbol topic is one topic
    topics_per_connection: int = 300  # legacy docs 300, current docs 400: the stricter one
    connections: int = 50  # open at once, per IP (legacy docs 50, current docs 800)
    connection_attempts: int = 30  # per IP ...
    connection_window_s: float = 60.0  # ... per minute
    pool_limits: tuple[tuple[str, int], ...] = (("Public", 2000), ("Spot", 4000), ("Management", 2000))
    pool_window_ms: int = 30_000  # a pool's quota returns 30 s after its first request

    def pool_limit(self, pool: str) -> int:
        return dict(self.pool_limits)[pool]


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    binance: BinanceLimits = BinanceLimits()
    kucoin: KucoinLimits = KucoinLimits()


class SlidingCount:
    """At most ``limit`` events in any ``window_s``: ``add`` counts one and says if that broke it."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._times: deque[float] = deque()

    def add(self, now: float) -> bool:
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        self._times.append(now)
        return len(self._times) > self.limit


class ConnectionGate:
    """Connection attempts per IP in a sliding window, and (optionally) connections open at once."""

    def __init__(self, attempts: int, window_s: float, open_limit: int | None = None) -> None:
        self.attempts, self.window_s, self.open_limit = attempts, window_s, open_limit
        self._attempts: dict[str, SlidingCount] = {}
        self._open: dict[str, int] = {}

    def admit(self, ip: str, now: float) -> str | None:
        """Count one attempt from ``ip``; the reason it is refused, or None (then call ``closed``)."""
        counter = self._attempts.setdefault(ip, SlidingCount(self.attempts, self.window_s))
        if counter.add(now):
            return "too many connection attempts"
        if self.open_limit is not None and self._open.get(ip, 0) >= self.open_limit:
            return "too many connections"
        self._open[ip] = self._open.get(ip, 0) + 1
        return None

    def closed(self, ip: str) -> None:
        left = self._open.get(ip, 0) - 1
        if left > 0:
            self._open[ip] = left
        else:
            self._open.pop(ip, None)


class PongDeadline:
    """Binance keep-alive: only a pong that copies an outstanding ping's payload answers it (and
    every older ping); an unsolicited pong answers nothing. Late once the oldest unanswered
    ping is older than the timeout."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._pending: dict[bytes, float] = {}  # payload -> sent at, oldest first
        self.answered = 0

    def sent(self, payload: bytes, now: float) -> None:
        self._pending[payload] = now

    def pong(self, payload: bytes) -> None:
        if payload not in self._pending:
            return
        self.answered += 1
        for key in list(self._pending):
            del self._pending[key]
            if key == payload:
                return

    def late(self, now: float) -> bool:
        oldest = next(iter(self._pending.values()), None)
        return oldest is not None and now - oldest > self.timeout_s


class PingWatch:
    """KuCoin keep-alive: the client must send a ping at least every ``deadline_s``."""

    def __init__(self, deadline_s: float, now: float) -> None:
        self.deadline_s = deadline_s
        self.last_ping = now
        self.pings = 0

    def ping(self, now: float) -> None:
        self.last_ping = now
        self.pings += 1

    def late(self, now: float) -> bool:
        return now - self.last_ping > self.deadline_s
