"""A full local order book kept in sync from a REST snapshot and a diff stream (pure).

One algorithm for both venues, the one their docs give:

- Binance (web-socket-streams.md, "How to manage a local order book correctly"): buffer the
  ``<symbol>@depth@100ms`` events, fetch ``/api/v3/depth`` (``lastUpdateId``), drop events with
  ``u <= lastUpdateId``, the first event applied must have ``U <= lastUpdateId + 1 <= u``, and
  every later one ``U == previous u + 1``.
- KuCoin (legacy docs "Level-2 Market Data", calibration): buffer the ``/market/level2``
  updates, fetch a book (``sequence``), drop updates with ``sequenceEnd <= sequence``, apply
  only the changes whose own sequence is past the book's, and every later update must have
  ``sequenceStart == previous sequenceEnd + 1``.

So a diff carries a first/last id (``U``/``u``, ``sequenceStart``/``sequenceEnd``) and each
change its own sequence (Binance: the event's ``u``). Any break in the ids is a gap: the book
is dropped (it is wrong from then on) and a new snapshot is needed. A size of 0 removes a level.

A snapshot of ``limit`` levels that came back full is truncated: past its worst price the
book may hold levels we never saw. Levels the diffs tell us about out there are real (a diff
gives a level's whole size), so they are kept, and the book is never kinder than the venue:
it can only miss liquidity. ``verified`` counts the levels inside the snapshot's range; when
a side's falls under ``min_verified`` the book asks for a fresh snapshot (``wants_snapshot``)
and keeps serving meanwhile.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from apps.market.events import BookSnapshot

Change = tuple[Decimal, Decimal, int]  # price, size (0: remove), the change's sequence
Level = tuple[Decimal, Decimal]

# What the book publishes a side: what market orders walk (and the cache holds). Pushes to
# browsers are cut further (apps.market.realtime.PUSH_LEVELS).
BOOK_LEVELS = 200
# Levels a side keeps at most: diffs report levels far outside what any walk reaches (and
# the snapshot's range); past this many the farthest is dropped, so a book's memory is bounded
# however long it streams. Far above any depth served (Binance's deepest snapshot is 5,000, the
# simulator's book 1,000): within one diff a side may briefly hold more than the venue shows
# (adds applied before removes), and a cap at the venue's depth dropped a level that stays
# (the local book then differed from the simulator's, 2 in 7 runs). [chosen]
KEPT_LEVELS = 10_000
BUFFER_MAX = 200  # diffs kept while a snapshot is on its way (about 20 s of a 100 ms stream)

# Outcomes of on_diff / on_snapshot.
APPLIED = "applied"
BUFFERED = "buffered"
STALE = "stale"  # already in the book (u <= the book's id)
GAP = "gap"  # ids broke: the book was dropped, a snapshot is needed
SYNCED = "synced"
TOO_OLD = "too_old"  # the snapshot predates the buffered diffs: fetch again


@dataclass(frozen=True, slots=True)
class DepthDiff:
    symbol: str
    first_id: int  # Binance U, KuCoin sequenceStart
    last_id: int  # Binance u, KuCoin sequenceEnd
    bids: tuple[Change, ...]
    asks: tuple[Change, ...]
    ts_ms: int


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    symbol: str
    sequence: int  # Binance lastUpdateId, KuCoin sequence
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    ts_ms: int
    limit: int  # levels a side asked for: a side that came back this long is truncated


class _Side:
    """Price -> size, with the prices kept sorted ascending (bisect) so the best N are a slice."""

    __slots__ = ("sizes", "prices", "bound", "descending")

    def __init__(self, levels: tuple[Level, ...], *, truncated: bool, descending: bool) -> None:
        self.descending = descending
        self.sizes = {p: q for p, q in levels if q > 0}
        self.prices = sorted(self.sizes)
        worst = (self.prices[0] if descending else self.prices[-1]) if self.prices else None
        self.bound = worst if truncated else None  # past it the book may have holes

    def set(self, price: Decimal, size: Decimal) -> None:
        if size == 0:
            if self.sizes.pop(price, None) is not None:
                del self.prices[bisect.bisect_left(self.prices, price)]
            return
        if price not in self.sizes:
            bisect.insort(self.prices, price)
        self.sizes[price] = size
        if len(self.prices) > KEPT_LEVELS:  # drop the farthest level
            del self.sizes[self.prices.pop(0) if self.descending else self.prices.pop()]

    def best(self, n: int) -> tuple[Level, ...]:
        prices = self.prices[: -n - 1 : -1] if self.descending else self.prices[:n]
        sizes = self.sizes
        return tuple((p, sizes[p]) for p in prices)

    def beyond(self, price: Decimal) -> bool:
        return self.bound is not None and (price < self.bound if self.descending else price > self.bound)

    def keep_beyond(self, old: _Side | None) -> None:
        """Take over ``old``'s levels past this side's snapshot range."""
        if old is None or self.bound is None:
            return
        for price, size in old.sizes.items():
            if self.beyond(price):
                self.set(price, size)

    def verified(self) -> int:
        """Levels inside the snapshot's range (all of them when the snapshot had the whole side)."""
        if self.bound is None:
            return len(self.prices)
        if self.descending:
            return len(self.prices) - bisect.bisect_left(self.prices, self.bound)
        return bisect.bisect_right(self.prices, self.bound)


class LocalBook:
    """One symbol's book. ``on_diff`` for every stream event, ``on_snapshot`` for every REST
    answer; ``book()`` is what the feed publishes while ``synced``."""

    def __init__(self, exchange: str, symbol: str, *, min_verified: int = 0, buffer_max: int = BUFFER_MAX) -> None:
        self.exchange, self.symbol = exchange, symbol
        self.min_verified = min_verified
        self.sequence = 0
        self.synced = False
        self.bridging = False  # the next diff applied is the first after a snapshot
        self.wants_snapshot = True
        self.gaps = 0
        self.ts_ms = 0
        self._bids: _Side | None = None
        self._asks: _Side | None = None
        self._buffer: deque[DepthDiff] = deque(maxlen=buffer_max)

    # -- stream -----------------------------------------------------------------------------
    def on_diff(self, diff: DepthDiff) -> str:
        self.ts_ms = max(self.ts_ms, diff.ts_ms)
        if self.wants_snapshot:
            self._buffer.append(diff)  # a snapshot is on its way: it is replayed on top of it
        if not self.synced:
            return BUFFERED
        outcome = self._apply(diff)
        if outcome == APPLIED and self.min_verified and self._thin():
            self.wants_snapshot = True  # keep serving; a deeper snapshot replaces this one
        return outcome

    def _apply(self, diff: DepthDiff) -> str:
        if diff.last_id <= self.sequence:
            return STALE
        if diff.first_id > self.sequence + 1 or (not self.bridging and diff.first_id != self.sequence + 1):
            return self._gap()
        bids, asks = self._bids, self._asks
        if bids is None or asks is None:  # not synced (on_diff checks): nothing to apply to
            return BUFFERED
        after = self.sequence
        for side, changes in ((bids, diff.bids), (asks, diff.asks)):
            for price, size, sequence in changes:
                if sequence > after:
                    side.set(price, size)
        self.sequence, self.bridging = diff.last_id, False
        return APPLIED

    def _gap(self) -> str:
        self.synced, self.wants_snapshot = False, True
        self._bids = self._asks = None
        self._buffer.clear()
        self.gaps += 1
        return GAP

    # -- snapshot ---------------------------------------------------------------------------
    def on_snapshot(self, snap: DepthSnapshot) -> str:
        """A fresh book from ``snap`` plus the diffs buffered since it was asked for. A snapshot
        older than the first of them cannot be bridged: fetch again (the buffer is kept)."""
        pending = [d for d in self._buffer if d.last_id > snap.sequence]
        if pending and pending[0].first_id > snap.sequence + 1:
            return TOO_OLD
        old = (self._bids, self._asks, self.sequence) if self.synced else None
        self._bids = _Side(snap.bids, truncated=len(snap.bids) >= snap.limit, descending=True)
        self._asks = _Side(snap.asks, truncated=len(snap.asks) >= snap.limit, descending=False)
        self.sequence, self.bridging, self.ts_ms = snap.sequence, True, max(self.ts_ms, snap.ts_ms)
        self.synced, self.wants_snapshot = True, False
        self._buffer.clear()
        for diff in pending:
            if self._apply(diff) == GAP:
                return GAP
        if old is not None and old[2] == self.sequence:
            # A refresh: the served book saw the same diffs, so what it knew past the new
            # snapshot's range is as current as the snapshot (unverified, as before).
            self._bids.keep_beyond(old[0])
            self._asks.keep_beyond(old[1])
        return SYNCED

    def _thin(self) -> bool:
        """A truncated side with fewer verified levels than wanted (a whole side never is)."""
        sides = (self._bids, self._asks)
        return any(s is not None and s.bound is not None and s.verified() < self.min_verified for s in sides)

    # -- reading ----------------------------------------------------------------------------
    def verified(self) -> tuple[int, int]:
        if self._bids is None or self._asks is None:
            return (0, 0)
        return (self._bids.verified(), self._asks.verified())

    def book(self, levels: int = BOOK_LEVELS) -> BookSnapshot | None:
        if not self.synced or self._bids is None or self._asks is None:
            return None
        return BookSnapshot(
            self.exchange, self.symbol, self._bids.best(levels), self._asks.best(levels), self.ts_ms, self.sequence
        )

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """The worst verified bid and ask (None: the whole side is known)."""
        if self._bids is None or self._asks is None:
            return (None, None)
        return (self._bids.bound, self._asks.bound)

    def depth(self) -> tuple[int, int]:
        """Levels held a side (verified or not)."""
        if self._bids is None or self._asks is None:
            return (0, 0)
        return (len(self._bids.prices), len(self._asks.prices))
