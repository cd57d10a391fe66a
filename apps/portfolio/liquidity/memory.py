"""Consumed liquidity for one process (embedded mode): a dict under a lock.

Each take is atomic under the lock, so the threads of the process (web requests, bots, the
matcher) can never both be granted one level. Walks hold no lock around the whole book: a
walk granted less than a level shows goes on to the next level, and the order services
check funds and FOK against what the walk really got.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

from apps.core.money import quantize_down as step_down
from apps.market.events import BookSnapshot
from apps.portfolio.liquidity import (
    DEFAULT_TTL_S,
    ZERO,
    LevelEntry,
    book_version,
    level_after_take,
    level_consumed,
    level_free,
    level_grant,
)

_Level = tuple[str, Decimal]  # book side, price


class MemoryLiquidity:
    def __init__(self, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        # (exchange, symbol) -> level -> (entry, expires at)
        self._symbols: dict[tuple[str, str], dict[_Level, tuple[LevelEntry, float]]] = {}
        self._pruned: dict[tuple[str, str], int] = {}  # newest book version pruned against

    def _levels(self, book: BookSnapshot) -> dict[_Level, tuple[LevelEntry, float]]:
        return self._symbols.setdefault((book.exchange, book.symbol), {})

    def _entry(self, book: BookSnapshot, level: _Level, now: float) -> LevelEntry | None:
        held = self._levels(book).get(level)
        return held[0] if held is not None and held[1] > now else None

    def free_levels(self, *, book: BookSnapshot, book_side: str) -> list[Decimal]:
        version, now = book_version(book), self._clock()
        with self._lock:
            return [
                level_free(
                    displayed=displayed,
                    consumed=level_consumed(
                        self._entry(book, (book_side, price), now), displayed=displayed, version=version
                    ),
                )
                for price, displayed in (book.asks if book_side == "ask" else book.bids)
            ]

    def take(
        self,
        *,
        book: BookSnapshot,
        book_side: str,
        price: Decimal,
        displayed: Decimal,
        quantity: Decimal,
        step: Decimal,
    ) -> Decimal:
        level, version, now = (book_side, price), book_version(book), self._clock()
        with self._lock:
            self._prune(book, now)
            entry = self._entry(book, level, now)
            consumed = level_consumed(entry, displayed=displayed, version=version)
            granted = level_grant(cap=step_down(displayed, step), consumed=consumed, quantity=quantity)
            if granted > 0:
                after = level_after_take(entry, displayed=displayed, version=version, granted=granted)
                self._levels(book)[level] = (after, now + self._ttl_s)
        # A grant off the step (only if the step changed since an earlier take) stays consumed.
        return step_down(granted, step)

    def give_back(
        self, *, book: BookSnapshot, book_side: str, price: Decimal, displayed: Decimal, quantity: Decimal
    ) -> None:
        level, now = (book_side, price), self._clock()
        with self._lock:
            entry = self._entry(book, level, now)
            if entry is None or entry.displayed != displayed:
                return  # refreshed meanwhile: nothing of ours is left there
            left = LevelEntry(displayed=displayed, consumed=max(entry.consumed - quantity, ZERO), version=entry.version)
            levels = self._levels(book)
            levels[level] = (left, levels[level][1])

    def _prune(self, book: BookSnapshot, now: float) -> None:
        """On a newer book of a symbol, forget its levels that this book shows refreshed and
        those expired (memory stays bounded; the caller holds the lock)."""
        key, version = (book.exchange, book.symbol), book_version(book)
        if version <= self._pruned.get(key, -1):
            return
        self._pruned[key] = version
        shown = {("ask", p): q for p, q in book.asks} | {("bid", p): q for p, q in book.bids}
        levels = self._levels(book)
        for level, (entry, expires) in list(levels.items()):
            displayed = shown.get(level)
            refreshed = displayed is not None and level_consumed(entry, displayed=displayed, version=version) == ZERO
            if expires <= now or refreshed:
                del levels[level]

    def clear(self) -> None:
        with self._lock:
            self._symbols.clear()
            self._pruned.clear()
