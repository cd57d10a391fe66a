"""The local order book's sync rules, one hand-built case each (apps/market/feeds/local_book.py):
Binance's (buffer, snapshot lastUpdateId, drop u <= lastUpdateId, the first event bridges
U <= lastUpdateId + 1 <= u, then U == previous u + 1) and KuCoin's (per-change sequences past
the snapshot's), gaps -> resync, size 0 removes, truncated snapshots and their refresh."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from apps.market.events import BookSnapshot
from apps.market.feeds import local_book as lb
from apps.market.feeds.book_sync import BookSync
from apps.market.feeds.local_book import DepthDiff, DepthSnapshot, LocalBook


def diff(first: int, last: int, bids=(), asks=(), seq: int | None = None) -> DepthDiff:
    """Binance-style: every change carries the event's u (or ``seq``)."""
    own = last if seq is None else seq
    return DepthDiff(
        "BTCUSDT",
        first,
        last,
        tuple((D(p), D(q), own) for p, q in bids),
        tuple((D(p), D(q), own) for p, q in asks),
        1000 + last,
    )


def snap(sequence: int, bids, asks, limit: int = 1000) -> DepthSnapshot:
    return DepthSnapshot(
        "BTCUSDT", sequence, tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks), 0, limit
    )


BIDS = [("100.0", "1"), ("99.9", "2"), ("99.5", "3")]
ASKS = [("100.1", "1.5"), ("100.2", "2.5"), ("101.0", "4")]


def synced(sequence: int = 10) -> LocalBook:
    book = LocalBook("binance", "BTCUSDT")
    assert book.on_diff(diff(sequence, sequence)) == lb.BUFFERED
    assert book.on_snapshot(snap(sequence, BIDS, ASKS)) == lb.SYNCED
    return book


def test_events_before_the_snapshot_are_buffered_and_those_it_covers_dropped() -> None:
    book = LocalBook("binance", "BTCUSDT")
    assert book.book() is None and book.wants_snapshot
    assert book.on_diff(diff(5, 8, bids=[("100.0", "9")])) == lb.BUFFERED  # u <= lastUpdateId: dropped
    assert book.on_diff(diff(9, 12, asks=[("100.1", "0")])) == lb.BUFFERED  # bridges 10 + 1
    assert book.on_diff(diff(13, 13, bids=[("99.8", "0.25")])) == lb.BUFFERED
    assert book.on_snapshot(snap(10, BIDS, ASKS)) == lb.SYNCED
    out = book.book()
    assert isinstance(out, BookSnapshot) and out.update_id == 13 and not book.wants_snapshot
    assert out.bids == ((D("100.0"), D("1")), (D("99.9"), D("2")), (D("99.8"), D("0.25")), (D("99.5"), D("3")))
    assert out.asks == ((D("100.2"), D("2.5")), (D("101.0"), D("4")))  # size 0 removed 100.1


def test_a_snapshot_older_than_the_buffer_is_fetched_again() -> None:
    book = LocalBook("binance", "BTCUSDT")
    book.on_diff(diff(20, 22))
    assert book.on_snapshot(snap(15, BIDS, ASKS)) == lb.TOO_OLD  # 16..19 are lost between them
    assert book.book() is None and book.wants_snapshot
    assert book.on_snapshot(snap(19, BIDS, ASKS)) == lb.SYNCED  # U=20 <= 19 + 1 <= u=22
    assert book.sequence == 22


def test_a_snapshot_newer_than_every_buffered_event_then_needs_a_bridging_event() -> None:
    book = LocalBook("binance", "BTCUSDT")
    book.on_diff(diff(3, 4))
    assert book.on_snapshot(snap(30, BIDS, ASKS)) == lb.SYNCED and book.sequence == 30
    assert book.on_diff(diff(25, 30)) == lb.STALE
    assert book.on_diff(diff(28, 33, bids=[("100.0", "7")])) == lb.APPLIED  # first one: U <= 31 <= u
    assert book.on_diff(diff(34, 35, bids=[("99.9", "0")])) == lb.APPLIED
    out = book.book()
    assert out is not None and out.bids == ((D("100.0"), D("7")), (D("99.5"), D("3")))


def test_a_first_event_that_does_not_reach_the_snapshot_is_a_gap() -> None:
    book = LocalBook("binance", "BTCUSDT")
    book.on_diff(diff(1, 2))
    book.on_snapshot(snap(10, BIDS, ASKS))
    assert book.on_diff(diff(12, 13)) == lb.GAP  # 11 never came
    assert book.book() is None and book.wants_snapshot and book.gaps == 1


def test_a_gap_after_sync_drops_the_book_and_a_new_snapshot_resyncs_it() -> None:
    book = synced(10)
    assert book.on_diff(diff(11, 12, asks=[("100.1", "3")])) == lb.APPLIED
    assert book.on_diff(diff(14, 15)) == lb.GAP  # 13 missing
    assert book.book() is None and not book.synced and book.wants_snapshot
    assert book.on_diff(diff(16, 17, bids=[("100.0", "0")])) == lb.BUFFERED
    assert book.on_snapshot(snap(16, [("99.9", "5")], [("100.3", "1")])) == lb.SYNCED
    out = book.book()
    assert out is not None and out.update_id == 17 and out.bids == ((D("99.9"), D("5")),)


def test_after_the_first_event_each_must_follow_the_previous_exactly() -> None:
    book = synced(10)
    assert book.on_diff(diff(11, 14)) == lb.APPLIED
    assert book.on_diff(diff(13, 16)) == lb.GAP  # overlaps 13-14: not the documented U == u + 1


def test_a_duplicate_event_is_ignored() -> None:
    book = synced(10)
    book.on_diff(diff(11, 12, bids=[("100.0", "4")]))
    assert book.on_diff(diff(11, 12, bids=[("100.0", "999")])) == lb.STALE
    out = book.book()
    assert out is not None and out.bids[0] == (D("100.0"), D("4")) and book.synced


def test_kucoin_applies_only_the_changes_past_the_snapshot_sequence() -> None:
    book = LocalBook("kucoin", "BTCUSDT")
    changes = DepthDiff(
        "BTCUSDT",
        8,
        12,
        ((D("100.0"), D("9"), 9), (D("99.9"), D("0"), 11)),  # 9 is in the snapshot already
        ((D("100.1"), D("0.5"), 12),),
        5,
    )
    book.on_diff(changes)
    assert book.on_snapshot(snap(10, BIDS, ASKS, limit=100)) == lb.SYNCED
    out = book.book()
    assert out is not None and out.bids == ((D("100.0"), D("1")), (D("99.5"), D("3")))
    assert out.asks[0] == (D("100.1"), D("0.5"))
    assert book.on_diff(DepthDiff("BTCUSDT", 13, 13, (), ((D("100.1"), D("0"), 13),), 6)) == lb.APPLIED
    assert book.on_diff(DepthDiff("BTCUSDT", 15, 15, (), (), 7)) == lb.GAP  # sequenceStart != 13 + 1


def test_a_full_snapshot_side_is_truncated_levels_past_it_are_kept_and_a_thin_book_refreshes() -> None:
    book = LocalBook("binance", "BTCUSDT", min_verified=2)
    book.on_diff(diff(10, 10))
    book.on_snapshot(snap(10, BIDS, ASKS, limit=3))  # 3 of 3 asked: both sides truncated
    assert book.verified() == (3, 3)
    # Past the worst ask (101.0): a level the diff tells us about is real, but unverified.
    assert book.on_diff(diff(11, 11, asks=[("100.1", "0"), ("102.0", "8")])) == lb.APPLIED
    assert book.verified() == (3, 2) and book.depth() == (3, 3) and not book.wants_snapshot
    out = book.book()
    assert out is not None and out.asks[-1] == (D("102.0"), D("8"))
    assert book.on_diff(diff(12, 12, asks=[("100.2", "0")])) == lb.APPLIED
    assert book.wants_snapshot and book.synced and book.book() is not None  # serves while refreshing
    book.on_diff(diff(13, 13, bids=[("99.0", "1")]))  # buffered for the refresh, and applied
    assert book.on_snapshot(snap(12, BIDS, [("101.0", "4"), ("101.5", "1"), ("102.0", "8")], limit=3)) == lb.SYNCED
    assert book.verified() == (3, 3) and book.depth() == (4, 3)  # 99.0 is past the bid snapshot's range
    assert book.sequence == 13 and not book.wants_snapshot


def test_a_side_shorter_than_the_limit_is_the_whole_side() -> None:
    book = LocalBook("kucoin", "BTCUSDT", min_verified=50)
    book.on_diff(diff(1, 1))
    assert book.on_snapshot(snap(1, BIDS, [], limit=100)) == lb.SYNCED
    book.on_diff(diff(2, 2, bids=[("50.0", "1")]))
    assert book.verified() == (4, 0) and not book.wants_snapshot  # nothing is hidden
    out = book.book()
    assert out is not None and out.asks == () and out.mid is None


def test_the_published_book_is_best_first_and_capped() -> None:
    book = LocalBook("binance", "BTCUSDT")
    book.on_diff(diff(1, 1))
    bids = [(f"{100 - i}.5", "1") for i in range(300)]
    asks = [(f"{101 + i}.25", "2") for i in range(300)]
    book.on_snapshot(snap(1, bids, asks))
    out = book.book()
    assert out is not None and len(out.bids) == len(out.asks) == lb.BOOK_LEVELS
    assert out.bids[0][0] == D("100.5") and out.asks[0][0] == D("101.25")
    assert all(a[0] > b[0] for a, b in zip(out.bids, out.bids[1:], strict=False))
    assert all(a[0] < b[0] for a, b in zip(out.asks, out.asks[1:], strict=False))
    assert len(book.book(5).asks) == 5


def test_a_buffer_that_overflowed_cannot_bridge_and_refetches() -> None:
    book = LocalBook("binance", "BTCUSDT", buffer_max=3)
    for u in range(1, 7):
        book.on_diff(diff(u, u))
    assert book.on_snapshot(snap(1, BIDS, ASKS)) == lb.TOO_OLD  # 2 and 3 fell out of the buffer
    assert book.on_snapshot(snap(3, BIDS, ASKS)) == lb.SYNCED and book.sequence == 6


def test_book_sync_publishes_an_empty_book_on_a_gap_and_resyncs() -> None:
    published: list[BookSnapshot | None] = []
    fetched: list[str] = []
    answers = [snap(10, BIDS, ASKS), snap(20, BIDS, ASKS)]

    async def fetch(symbol: str) -> DepthSnapshot:
        fetched.append(symbol)
        return answers.pop(0)

    async def run() -> None:
        sync = BookSync("binance", fetch=fetch, publish=published.append, min_verified=0)
        sync.on_diff(diff(10, 10))
        sync.on_diff(diff(11, 11))  # while the fetch is pending: one fetch only
        await asyncio.sleep(0.05)
        assert fetched == ["BTCUSDT"] and published[-1] is not None and published[-1].update_id == 11
        sync.on_diff(diff(13, 13))  # 12 lost
        assert published[-1] is not None and published[-1].bids == () and published[-1].asks == ()
        sync.on_diff(diff(21, 21))
        await asyncio.sleep(0.05)
        assert fetched == ["BTCUSDT", "BTCUSDT"] and sync.snapshots == 2
        last = published[-1]
        assert last is not None and last.update_id == 21 and last.best_bid == D("100.0")
        await sync.close()

    asyncio.run(run())


def test_a_refresh_keeps_what_the_served_book_knew_past_the_new_snapshot() -> None:
    book = LocalBook("kucoin", "BTCUSDT", min_verified=3)
    book.on_diff(diff(1, 1))
    book.on_snapshot(snap(1, BIDS, ASKS, limit=3))
    book.on_diff(diff(2, 2, asks=[("100.1", "0"), ("103.0", "2")]))  # 103.0: past 101.0, known
    assert book.wants_snapshot  # two verified asks left
    book.on_diff(diff(3, 3, asks=[("104.0", "1")]))
    # The refresh (at 2; diff 3 replayed on it) covers up to 101.5 only.
    assert book.on_snapshot(snap(2, BIDS, [("100.2", "2.5"), ("101.0", "4"), ("101.5", "1")], limit=3)) == lb.SYNCED
    out = book.book()
    assert out is not None and book.bounds()[1] == D("101.5") and book.verified() == (3, 3)
    assert [p for p, _ in out.asks] == [D("100.2"), D("101.0"), D("101.5"), D("103.0"), D("104.0")]


def test_a_refresh_waits_for_spare_budget_but_a_gap_resyncs_at_once() -> None:
    published: list[BookSnapshot | None] = []
    fetched: list[int] = []
    room = [False]

    async def fetch(symbol: str) -> DepthSnapshot:
        fetched.append(len(published))
        return snap(20, BIDS, ASKS, limit=3)

    async def run() -> None:
        sync = BookSync(
            "binance", fetch=fetch, publish=published.append, min_verified=3, room=lambda: room[0], retry_s=0.01
        )
        sync.books["BTCUSDT"] = book = LocalBook("binance", "BTCUSDT", min_verified=3)
        book.on_diff(diff(1, 1))
        book.on_snapshot(snap(1, BIDS, ASKS, limit=3))
        sync.on_diff(diff(2, 2, asks=[("100.1", "0")]))  # two verified asks: a refresh is wanted
        await asyncio.sleep(0.1)
        assert book.wants_snapshot and fetched == []  # no room in the budget: it waits, the book serves
        sync.on_diff(diff(4, 4))  # a gap: no waiting for room any more
        await asyncio.sleep(0.1)
        assert fetched and book.synced and book.sequence == 20
        await sync.close()

    asyncio.run(run())


def test_budget_room_counts_the_current_window_only() -> None:
    from apps.market.feeds.budget import QuotaBudget

    now = [100.0]
    budget = QuotaBudget(limit=100, window_s=60, clock=lambda: now[0])
    budget.observe(used=40)
    assert budget.room(10, share=0.5) and not budget.room(11, share=0.5)
    now[0] = 180.0  # the window reset
    assert budget.room(50, share=0.5)


def test_a_side_keeps_at_most_kept_levels_dropping_the_farthest():
    from apps.market.feeds.local_book import KEPT_LEVELS, _Side

    bids = _Side((), truncated=False, descending=True)
    asks = _Side((), truncated=False, descending=False)
    for i in range(KEPT_LEVELS + 50):
        bids.set(D(100_000 - i), D(1))  # each new bid lower: the farthest
        asks.set(D(100_001 + i), D(1))
    assert len(bids.prices) == len(bids.sizes) == KEPT_LEVELS
    assert len(asks.prices) == len(asks.sizes) == KEPT_LEVELS
    assert bids.best(1)[0][0] == D(100_000) and asks.best(1)[0][0] == D(100_001)
    assert min(bids.sizes) == D(100_000 - KEPT_LEVELS + 1) and max(asks.sizes) == D(100_000 + KEPT_LEVELS)
