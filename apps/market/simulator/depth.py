"""Binance diff-depth bookkeeping (pure): the book as last published, and the level changes
between two book versions, numbered with the same update ids /api/v3/depth reports as
``lastUpdateId`` so a client can sync a local book by the documented rule (snapshot, drop
``u <= lastUpdateId``, apply while each ``U`` follows the previous ``u``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .market import Market

# The whole simulated book: /api/v3/depth serves at most this many levels a side (Market.book caps it).
DIFF_DEPTH = 1000

Levels = dict[int, int]  # price units -> qty units


@dataclass(slots=True)
class Diff:
    first_id: int  # U
    last_id: int  # u
    bids: Levels = field(default_factory=dict)  # qty 0: remove the level
    asks: Levels = field(default_factory=dict)

    def merge(self, later: Diff) -> None:
        """Fold a later diff into this one (the 1000 ms stream sends several steps as one event)."""
        self.last_id = later.last_id
        self.bids.update(later.bids)
        self.asks.update(later.asks)


def _changes(old: Levels, new: Levels) -> Levels:
    out = {price: qty for price, qty in new.items() if old.get(price) != qty}
    out.update((price, 0) for price in old if price not in new)
    return out


@dataclass(slots=True)
class DiffBook:
    """One market's book as of ``version``; ``advance`` returns what changed since."""

    version: int
    bids: Levels
    asks: Levels

    @classmethod
    def of(cls, market: Market) -> DiffBook:
        bids, asks = market.book(DIFF_DEPTH)
        return cls(market.book_version, dict(bids), dict(asks))

    def advance(self, market: Market) -> Diff | None:
        if market.book_version == self.version:
            return None
        now = DiffBook.of(market)
        diff = Diff(self.version + 1, now.version, _changes(self.bids, now.bids), _changes(self.asks, now.asks))
        self.version, self.bids, self.asks = now.version, now.bids, now.asks
        return diff
