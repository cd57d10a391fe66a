"""Consumed liquidity (FILL_REALISM rule 2), shared by every process that fills orders.

What our orders took at a book level stays taken until that level refreshes, whichever
process took it: two web processes (or a web process and the feeds' matcher) walking the
same level can never both take it. A store answers "take up to X at this level (exchange,
symbol, side, price); what was granted?", atomically: what one caller was granted no other
caller can be granted until the level refreshes. It also tells how much is free per level
(a read that takes nothing) and takes back what a refused order returns.

Two stores, one rule (``level_consumed``): ``MemoryLiquidity`` for one process (embedded
mode, SQLite), ``RedisLiquidity`` for many (production; one Lua script per take). The
process's store is chosen from settings (``PAPER_LIQUIDITY_STORE``) on first use, or set by
a composition root or test with ``liquidity_store_set``. docs/LIQUIDITY.md has the reasoning
and the latency the shared store adds.

The rule for one level, given the entry we stored when we last took from it (displayed
size, quantity consumed, version = the book's exchange time) and the book a caller sees now:

- same displayed size: not refreshed, the consumed quantity still applies;
- another size on a *newer* book: the exchange sent a new quantity there, nothing of ours
  is consumed from it any more;
- another size on an older (or same-time) book: the caller's book is behind the one we
  consumed from; which is right cannot be told, so the consumption still applies (never
  kinder than the exchange).

Entries also expire ``PAPER_LIQUIDITY_TTL_S`` after the last take (memory bound; a level
unchanged for that long is taken to have refreshed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from apps.market.events import BookSnapshot

ZERO = Decimal("0")
DEFAULT_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class LevelEntry:
    """What we consumed at one level, and the book we consumed it from."""

    displayed: Decimal
    consumed: Decimal
    version: int


def level_consumed(entry: LevelEntry | None, *, displayed: Decimal, version: int) -> Decimal:
    """How much of ours still counts as consumed at a level that a book of ``version`` shows
    with ``displayed`` (the rule above; pure, mirrored by the Redis script)."""
    if entry is None:
        return ZERO
    if entry.displayed != displayed and version > entry.version:
        return ZERO  # refreshed
    return entry.consumed


def level_after_take(entry: LevelEntry | None, *, displayed: Decimal, version: int, granted: Decimal) -> LevelEntry:
    """The entry after ``granted`` more was taken. A caller with an older book adds to the
    entry as it was, so a newer caller still compares against the newer size."""
    if entry is None or (entry.displayed != displayed and version > entry.version):
        return LevelEntry(displayed=displayed, consumed=granted, version=version)
    if entry.displayed == displayed:
        return LevelEntry(displayed=displayed, consumed=entry.consumed + granted, version=max(entry.version, version))
    return LevelEntry(displayed=entry.displayed, consumed=entry.consumed + granted, version=entry.version)


def level_grant(*, cap: Decimal, consumed: Decimal, quantity: Decimal) -> Decimal:
    """Up to ``quantity`` of what is left of ``cap`` (the displayed size rounded down to the
    step) after ``consumed``."""
    return max(min(quantity, cap - consumed), ZERO)


def level_free(*, displayed: Decimal, consumed: Decimal) -> Decimal:
    return max(displayed - consumed, ZERO)


def book_version(book: BookSnapshot) -> int:
    return book.ts_ms


class LiquidityStore(Protocol):
    """What the fill engine needs (``take``; ``give_back`` for a refused walk) and a read of
    the state (``free_levels``). ``book_side`` is "ask" or "bid"."""

    def free_levels(self, *, book: BookSnapshot, book_side: str) -> list[Decimal]:
        """Free quantity per level of ``book_side``, best first (a peek: takes nothing)."""
        ...

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
        """Take up to ``quantity`` (a multiple of ``step``) at the level; the quantity granted,
        a multiple of ``step`` when ``step`` > 0, possibly zero."""
        ...

    def give_back(
        self, *, book: BookSnapshot, book_side: str, price: Decimal, displayed: Decimal, quantity: Decimal
    ) -> None:
        """Return what an order took but did not keep (refused after its walk)."""
        ...

    def clear(self) -> None: ...


_store: LiquidityStore | None = None
_store_lock = threading.Lock()


def liquidity_store() -> LiquidityStore:
    """The process's store, built from settings on first use."""
    global _store
    store = _store
    if store is not None:
        return store
    with _store_lock:
        if _store is None:
            _store = _store_from_settings()
        return _store


def liquidity_store_set(store: LiquidityStore | None) -> LiquidityStore | None:
    """Install ``store`` (None: rebuild from settings on next use); returns the previous one."""
    global _store
    with _store_lock:
        previous, _store = _store, store
    return previous


def _store_from_settings() -> LiquidityStore:
    from django.conf import settings

    from apps.portfolio.liquidity.memory import MemoryLiquidity

    kind = settings.PAPER_LIQUIDITY_STORE
    ttl_s = float(settings.PAPER_LIQUIDITY_TTL_S)
    url = getattr(settings, "REDIS_URL", "")
    if kind == "redis" or (kind == "auto" and url):
        from apps.portfolio.liquidity.redis_store import RedisLiquidity

        if not url:
            raise RuntimeError("PAPER_LIQUIDITY_STORE=redis needs REDIS_URL")
        return RedisLiquidity(url=url, ttl_s=ttl_s)
    return MemoryLiquidity(ttl_s=ttl_s)
