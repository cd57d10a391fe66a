"""The consumed-liquidity rule, the same for the in-process and the Redis store."""

from __future__ import annotations

import threading
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.portfolio.liquidity import LevelEntry, level_after_take, level_consumed
from apps.portfolio.liquidity.memory import MemoryLiquidity
from apps.portfolio.liquidity.redis_store import from_units, to_units
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book

STEP = D("0.001")


def _take(store, book, qty, *, price="100.50", displayed="0.5", step=STEP):
    return store.take(book=book, book_side="ask", price=D(price), displayed=D(displayed), quantity=D(qty), step=step)


def test_a_take_is_granted_once_until_the_level_refreshes(store):
    book = make_book(STD_ASKS, STD_BIDS, ts_ms=1_000)
    assert _take(store, book, "0.4") == D("0.4")
    assert _take(store, book, "0.4") == D("0.1")  # only what is left
    assert _take(store, book, "0.4") == 0
    assert store.free_levels(book=book, book_side="ask") == [D("0"), D("1.0"), D("2.0")]
    # A newer book shows another size at 100.50: the exchange refreshed it.
    newer = make_book([("100.50", "0.7"), *STD_ASKS[1:]], STD_BIDS, ts_ms=2_000)
    assert store.free_levels(book=newer, book_side="ask")[0] == D("0.7")
    assert _take(store, newer, "1", displayed="0.7") == D("0.7")


def test_an_older_book_with_another_size_still_sees_the_consumption(store):
    """Two processes may hold books of different ages: the one behind must not undo ours."""
    newer = make_book([("100.50", "0.7")], STD_BIDS, ts_ms=2_000)
    assert _take(store, newer, "0.6", displayed="0.7") == D("0.6")
    older = make_book([("100.50", "0.5")], STD_BIDS, ts_ms=1_000)
    assert store.free_levels(book=older, book_side="ask") == [D("0")]
    assert _take(store, older, "0.5") == 0
    # The newer book still compares against its own size: 0.1 left.
    assert _take(store, newer, "0.5", displayed="0.7") == D("0.1")


def test_the_same_size_on_a_newer_book_is_not_a_refresh(store):
    _take(store, make_book(STD_ASKS, STD_BIDS, ts_ms=1_000), "0.5")
    assert _take(store, make_book(STD_ASKS, STD_BIDS, ts_ms=5_000), "0.5") == 0


def test_grants_are_whole_steps(store):
    book = make_book([("100.50", "0.5005")], STD_BIDS)
    assert _take(store, book, "0.4", displayed="0.5005") == D("0.4")
    assert _take(store, book, "0.4", displayed="0.5005") == D("0.1")  # 0.1005 left, 0.1 in steps


def test_give_back_returns_what_an_order_did_not_keep(store):
    book = make_book(STD_ASKS, STD_BIDS)
    _take(store, book, "0.5")
    store.give_back(book=book, book_side="ask", price=D("100.50"), displayed=D("0.5"), quantity=D("0.2"))
    assert _take(store, book, "0.5") == D("0.2")


def test_levels_are_per_symbol_and_side(store):
    book = make_book(STD_ASKS, STD_BIDS)
    _take(store, book, "0.5")
    eth = make_book(STD_ASKS, STD_BIDS, symbol="ETHUSDT")
    assert _take(store, eth, "0.5") == D("0.5")
    assert store.take(book=book, book_side="bid", price=D("100.50"), displayed=D("0.5"), quantity=D("1"), step=STEP)


def test_entries_expire_after_the_ttl():
    now = [0.0]
    store = MemoryLiquidity(ttl_s=10, clock=lambda: now[0])
    book = make_book(STD_ASKS, STD_BIDS)
    _take(store, book, "0.5")
    now[0] = 9.9
    assert _take(store, book, "0.5") == 0
    now[0] = 20.0
    assert _take(store, book, "0.5") == D("0.5")


def test_redis_entries_carry_the_ttl(redis_store):
    book = make_book(STD_ASKS, STD_BIDS)
    _take(redis_store, book, "0.5")
    (key,) = list(redis_store._client.scan_iter(match=f"{redis_store._prefix}:*"))
    assert 0 < redis_store._client.pttl(key) <= 300_000


def test_threads_of_one_process_never_share_a_level():
    store = MemoryLiquidity()
    book = make_book([("100.50", "1")], STD_BIDS)
    barrier = threading.Barrier(8)
    granted: list[D] = []

    def grab():
        barrier.wait(timeout=10)
        for _ in range(50):
            granted.append(_take(store, book, "0.01", displayed="1"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(granted) == D("1")


QTY = st.decimals(min_value=0, max_value=D("1e12"), places=8, allow_nan=False, allow_infinity=False)


@given(QTY)
def test_units_round_trip_exactly(value):
    assert from_units(to_units(value)) == value


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["0.5", "0.7", "1.25"]), st.integers(1_000, 1_003), QTY.map(lambda q: q % 2)),
        min_size=1,
        max_size=12,
    )
)
def test_the_redis_script_follows_the_pure_rule(redis_url, steps):
    """The Lua script and the Python rule agree on every sequence of takes (any book age)."""
    import uuid

    from apps.portfolio.liquidity.redis_store import RedisLiquidity

    redis_store = RedisLiquidity(url=redis_url, prefix=f"test:liq:{uuid.uuid4().hex[:8]}")
    memory = MemoryLiquidity()
    try:
        entry: LevelEntry | None = None
        for displayed, version, want in steps:
            book = make_book([("100.50", displayed)], STD_BIDS, ts_ms=version)
            want = D(want).quantize(D("0.00000001"))
            a = _take(redis_store, book, want, displayed=displayed, step=D("0.00000001"))
            b = _take(memory, book, want, displayed=displayed, step=D("0.00000001"))
            expected = max(min(want, D(displayed) - level_consumed(entry, displayed=D(displayed), version=version)), 0)
            assert a == b == expected
            if expected:
                entry = level_after_take(entry, displayed=D(displayed), version=version, granted=expected)
    finally:
        redis_store.clear()
