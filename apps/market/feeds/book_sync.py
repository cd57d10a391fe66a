"""The local books of one stream connection: diffs in, full books out (the I/O around
``local_book``). Snapshots are fetched through the adapter's REST gate, so their weight is
budgeted with every other call; one fetch per symbol at a time.

A gap publishes an empty book at once: from then on the book is wrong, and an empty one
makes a market order refuse ("no live order book") instead of walking stale depth until the
new snapshot is in. A book whose verified depth ran low keeps serving while a deeper
snapshot is fetched: a refresh can wait, so it goes at most once per ``refresh_min_s`` a
symbol and only while ``room()`` says the REST budget has room to spare (backfills, gap
fills and resyncs first); until then the book serves what the diffs told it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from apps.market.events import BookSnapshot
from apps.market.feeds.local_book import APPLIED, GAP, SYNCED, TOO_OLD, DepthDiff, DepthSnapshot, LocalBook

logger = logging.getLogger("apps.market.feeds")

Fetch = Callable[[str], Awaitable[DepthSnapshot | None]]


class BookSync:
    def __init__(
        self,
        exchange: str,
        *,
        fetch: Fetch,
        publish: Callable[[Any], None],
        min_verified: int,
        room: Callable[[], bool] = lambda: True,
        refresh_min_s: float = 30.0,
        retry_s: float = 1.0,
    ) -> None:
        self.exchange = exchange
        self.fetch, self.publish, self.room = fetch, publish, room
        self.min_verified, self.refresh_min_s, self.retry_s = min_verified, refresh_min_s, retry_s
        self.books: dict[str, LocalBook] = {}
        self.snapshots = 0  # REST snapshots applied (first syncs, resyncs, refreshes)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._fetched_at: dict[str, float] = {}

    def on_diff(self, diff: DepthDiff) -> None:
        book = self.books.get(diff.symbol)
        if book is None:
            book = self.books[diff.symbol] = LocalBook(self.exchange, diff.symbol, min_verified=self.min_verified)
        outcome = book.on_diff(diff)
        if outcome == APPLIED:
            self.publish(book.book())
        elif outcome == GAP:
            self._gap(book, f"U={diff.first_id} after {book.sequence}")
        if book.wants_snapshot:
            self._want(book)

    def _gap(self, book: LocalBook, detail: str) -> None:
        from apps.market import metrics

        metrics.book_resyncs.labels(self.exchange).inc()
        logger.warning("%s %s book: sequence gap (%s); resyncing", self.exchange, book.symbol, detail)
        self.publish(BookSnapshot(self.exchange, book.symbol, (), (), book.ts_ms, book.sequence))

    def _want(self, book: LocalBook) -> None:
        task = self._tasks.get(book.symbol)
        if task is None or task.done():
            self._tasks[book.symbol] = asyncio.get_running_loop().create_task(self._sync(book))

    async def _sync(self, book: LocalBook) -> None:
        # A refresh (the book still serves) waits its turn and for spare budget; a gap meanwhile
        # ends the wait (the book is dropped): a resync goes at once.
        due = self._fetched_at.get(book.symbol, float("-inf")) + self.refresh_min_s
        while book.synced and (time.monotonic() < due or not self.room()):
            await asyncio.sleep(min(self.retry_s, max(due - time.monotonic(), 0.05)))
        while book.wants_snapshot:
            self._fetched_at[book.symbol] = time.monotonic()
            try:
                snap = await self.fetch(book.symbol)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s %s book snapshot failed: %r", self.exchange, book.symbol, exc)
                await asyncio.sleep(self.retry_s)
                continue
            outcome = TOO_OLD if snap is None else book.on_snapshot(snap)
            if outcome == SYNCED:
                self.snapshots += 1
                self.publish(book.book())
            elif outcome == GAP:
                self._gap(book, "in the diffs buffered behind the snapshot")
            elif outcome == TOO_OLD:
                await asyncio.sleep(0.1)  # the diffs overtook it: a newer one bridges them

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
