"""Client-side budgets that keep a feed inside the exchanges' limits (pure timing; the caller sleeps).

``QuotaBudget``: REST request weight. The exchange says what it has counted on every answer
(Binance ``X-MBX-USED-WEIGHT-1M``, KuCoin ``gw-ratelimit-limit/-remaining/-reset``); the budget
adds the weight of the call about to go and, rather than pass ``share`` of the limit, waits for
the window to reset. Calls must be serialised (the adapters hold a lock) so every answer's count
is current. ``WindowPacer``: WebSocket messages a client may send in any window (KuCoin's uplink).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class QuotaBudget:
    def __init__(self, *, limit: int, window_s: float, share: float = 0.8, clock: Clock = time.time) -> None:
        self.limit, self.window_s, self.share = limit, window_s, share
        self._clock = clock
        self.used = 0
        self.reset_at = 0.0  # when the current window ends (clock time)

    def configure(self, *, limit: int, window_s: float | None = None) -> None:
        """The exchange's own figures (exchangeInfo's rateLimits, gw-ratelimit-limit)."""
        self.limit = limit
        if window_s is not None:
            self.window_s = window_s

    def observe(self, *, used: int, reset_in_s: float | None = None) -> None:
        """The count of the answer just received; without ``reset_in_s`` windows are aligned to
        multiples of ``window_s`` (Binance's 1M counter)."""
        now = self._clock()
        self.used = used
        self.reset_at = now + reset_in_s if reset_in_s is not None else now - now % self.window_s + self.window_s

    def room(self, weight: int, *, share: float) -> bool:
        """Whether ``weight`` fits under ``share`` of the limit now (reserves nothing): calls
        that can wait (a book refresh) go only when the others leave room."""
        used = 0 if self._clock() >= self.reset_at else self.used
        return used + weight <= share * self.limit

    def delay(self, weight: int) -> float:
        """Seconds to wait before spending ``weight``; reserves it."""
        now = self._clock()
        if now >= self.reset_at:
            self.used = 0
        wait = 0.0
        if self.used > 0 and self.used + weight > self.share * self.limit:
            wait = max(self.reset_at - now, 0.0)
            self.used = 0  # a fresh window by then
            self.reset_at = now + wait + self.window_s
        self.used += weight  # until the answer's header says what the exchange counted
        return wait


class WindowPacer:
    """At most ``limit`` sends in any ``window_s`` (sliding): ``delay`` reserves the next slot."""

    def __init__(self, *, limit: int, window_s: float, clock: Clock = time.monotonic) -> None:
        self.limit, self.window_s = limit, window_s
        self._clock = clock
        self._slots: deque[float] = deque()

    def delay(self) -> float:
        now = self._clock()
        while self._slots and self._slots[0] <= now - self.window_s:
            self._slots.popleft()
        at = now
        if len(self._slots) >= self.limit:
            at = self._slots[-self.limit] + self.window_s
        if self._slots:
            at = max(at, self._slots[-1])
        self._slots.append(at)
        return at - now
