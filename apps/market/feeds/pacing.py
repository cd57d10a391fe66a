"""The I/O side of staying within the exchanges' limits: paced REST calls, connections that end
together, KuCoin subscribes paced under the uplink limit (the budgets are in budget.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from apps.market.feeds.backoff import RestPacer
from apps.market.feeds.budget import QuotaBudget, WindowPacer

logger = logging.getLogger("apps.market.feeds")
CONNECT_GRACE_S = 3.0


class RateLimited(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


class RestGate:
    """One exchange's REST pacing: calls one at a time (so every answer's weight count is
    current), at most ``rate`` a second, within the weight budget, after any Retry-After."""

    def __init__(self, *, rate: float, budget: QuotaBudget) -> None:
        self.pacer = RestPacer(rate=rate)
        self.budget = budget
        self._lock: asyncio.Lock | None = None

    async def spend(self, weight: int) -> None:
        """Wait until ``weight`` may go out (for calls a library makes on its own)."""
        await asyncio.sleep(max(self.budget.delay(weight), self.pacer.blocked_until - time.monotonic()))

    async def call(self, call: Callable[[], Awaitable[Any]], *, weight: int, exchange: str) -> Any:
        """One REST call; a 429/418 is retried after its Retry-After (3 tries)."""
        from apps.market import metrics

        if self._lock is None:
            self._lock = asyncio.Lock()  # created on the feed's own loop
        for attempt in range(4):
            async with self._lock:
                await asyncio.sleep(max(self.pacer.delay(), self.budget.delay(weight)))
                try:
                    return await call()
                except RateLimited as exc:
                    metrics.rate_limited.labels(exchange).inc()
                    logger.warning("%s REST rate limited; retry after %.1fs", exchange, exc.retry_after)
                    self.pacer.block(exc.retry_after)
                    if attempt == 3:
                        raise
        raise AssertionError("unreachable")


async def first_to_end(coros: list[Coroutine[Any, Any, None]]) -> None:
    """Run connection loops together until the first one ends; cancel the rest and re-raise
    how the first ended."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclasses.dataclass(eq=False)
class KucoinLink:
    """One kucoin-python connection of a feed."""

    index: int
    ws: Any = None
    socket: Any = None  # the library's socket once subscribed: another one means it reconnected
    last_message: float = dataclasses.field(default_factory=time.monotonic)


async def kucoin_subscribe(link: KucoinLink, topics: list[str], pacer: WindowPacer) -> None:
    """Subscribe once the socket is up (before that kucoin-python queues and retries, which
    bursts), one message per pacer slot. The library's topic list is emptied: after a reconnect
    of its own it would resend them all at once, over the uplink limit; the feed reconnects
    itself instead."""
    conn = link.ws._conn
    while getattr(conn, "_socket", None) is None:
        await asyncio.sleep(0.05)
    link.socket = conn._socket
    link.last_message = time.monotonic()  # the stall clock starts with the socket
    for topic in topics:
        await asyncio.sleep(pacer.delay())
        await link.ws.subscribe(topic)
        link.ws.topics.clear()


def kucoin_link_trouble(links: list[KucoinLink], tasks: list[asyncio.Task[None]], stall_s: float) -> str | None:
    """Why the connections must be renewed, or None."""
    now = time.monotonic()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            return f"subscribe failed: {task.exception()!r}"
    for link in links:
        # kucoin-python sleeps 1-2 s before its first connect: a socket not up yet gets that long too.
        if now - link.last_message > stall_s + (CONNECT_GRACE_S if link.socket is None else 0.0):
            return f"connection {link.index}: no message for {stall_s}s"
        current = getattr(getattr(link.ws, "_conn", None), "_socket", None)
        if link.socket is not None and current is not link.socket:
            return f"connection {link.index}: kucoin-python reconnected on its own"
    return None
