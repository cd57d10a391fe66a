"""Full local order books against the simulator (the real clients on loopback): the feed's
book equals the simulator's own book at the same version after seconds of diffs, and a lost
diff (a forced sequence gap) makes it resync. A market order walking that book:
tests/portfolio/test_deep_book_walk.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apps.market import cache as market_cache
from apps.market.events import BookSnapshot
from apps.market.feeds.local_book import BOOK_LEVELS
from apps.market.feeds.runner import FeedRunner

from .helpers import start_feed, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SYMBOLS = ["BTCUSDT"]


def _in_feed(runner: FeedRunner, read: Any) -> Any:
    """Read the feed's books on its own loop (they change between any two lines elsewhere)."""

    async def call() -> Any:
        return read()

    assert runner.loop is not None
    return asyncio.run_coroutine_threadsafe(call(), runner.loop).result(5)


def _local(runner: FeedRunner) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        books = runner.adapter.books  # type: ignore[attr-defined]
        book = books.books.get("BTCUSDT") if books is not None else None
        if book is None:
            return {"sequence": 0, "book": None, "gaps": 0, "snapshots": 0, "bounds": (None, None)}
        return {
            "sequence": book.sequence,
            "book": book.book(10_000),
            "gaps": book.gaps,
            "snapshots": books.snapshots,
            "bounds": book.bounds(),
        }

    return _in_feed(runner, read)


def _check(local: dict[str, Any], truth: BookSnapshot) -> None:
    """Inside the snapshot's range the feed's book is the simulator's, level for level; past it
    (levels only diffs told us about) every level it holds is the simulator's (it may miss some:
    never kinder)."""
    bid_bound, ask_bound = local["bounds"]
    book = local["book"]

    def verified(levels: tuple, bound: Any, bids: bool) -> tuple:
        return tuple(lv for lv in levels if bound is None or (lv[0] >= bound if bids else lv[0] <= bound))

    assert verified(book.bids, bid_bound, True) == verified(truth.bids, bid_bound, True)
    assert verified(book.asks, ask_bound, False) == verified(truth.asks, ask_bound, False)
    assert set(book.bids) <= set(truth.bids) and set(book.asks) <= set(truth.asks)
    assert len(book.bids) >= 100 and len(book.asks) >= 100


def _equal_at_same_version(sim: Any, runner: FeedRunner, exchange: str) -> int:
    """The simulator's whole book at its current version, and the feed's once it is at that
    version (the simulator moves on at each of its trades, so this is retried)."""
    for _ in range(50):
        truth = sim.book(exchange, "BTCUSDT", depth=1000)
        if not wait_for(lambda v=truth.update_id: _local(runner)["sequence"] >= v, 5):
            continue
        local = _local(runner)
        if local["sequence"] != truth.update_id or local["book"] is None:
            continue  # moved on already
        _check(local, truth)
        return local["sequence"]
    raise AssertionError("the feed's book never sat at the simulator's version")


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_local_book_equals_the_simulator_book_and_resyncs_after_a_gap(exchange_sim_factory, exchange):
    # Few trades a second: the book changes at each, and stays put long enough to compare.
    sim = exchange_sim_factory(seed=11, symbols=SYMBOLS, trade_rate_hz=3.0)
    runner = start_feed(sim, exchange, symbols=SYMBOLS, stall_s=5.0)
    try:
        assert wait_for(lambda: _local(runner)["book"] is not None, 20), "no book synced"
        first = _equal_at_same_version(sim, runner, exchange)
        assert wait_for(lambda: _local(runner)["sequence"] >= first + 10, 20)  # seconds of diffs later
        _equal_at_same_version(sim, runner, exchange)
        before = _local(runner)
        assert before["gaps"] == 0

        sim.faults.drop_depth_diffs(exchange, "BTCUSDT")
        assert wait_for(lambda: _local(runner)["gaps"] == 1, 20), "the lost diff was not seen as a gap"
        resynced = lambda: _local(runner)["snapshots"] > before["snapshots"] and _local(runner)["book"] is not None  # noqa: E731
        assert wait_for(resynced, 20), "no resync"
        _equal_at_same_version(sim, runner, exchange)
        # Other processes walk the cached book: deep too (KuCoin's public snapshot has 100
        # levels a side: right after a resync that is all it holds until the next diff).
        depth = BOOK_LEVELS if exchange == "binance" else 100

        def cached_deep() -> bool:
            cached = market_cache.book_get(exchange, "BTCUSDT")
            return cached is not None and min(len(cached.bids), len(cached.asks)) >= depth

        assert wait_for(cached_deep, 5)
    finally:
        runner.stop()
