"""Pure pieces of the simulator: diff-depth bookkeeping, the incoming message limit, 1s rows."""

from __future__ import annotations

from apps.market.simulator.depth import DIFF_DEPTH, DiffBook
from apps.market.simulator.limits import SlidingCount
from apps.market.simulator.market import Market, Trade
from apps.market.simulator.symbols import resolve_specs

START = 1_767_225_600_000


def _market() -> Market:
    return Market("binance", resolve_specs(["ETHUSDT"])["ETHUSDT"], 4, START, 20.0, 1.0)


def test_diffs_applied_to_the_old_book_give_the_new_one() -> None:
    market = _market()
    book = DiffBook.of(market)
    local_bids, local_asks = dict(book.bids), dict(book.asks)
    assert book.advance(market) is None  # nothing printed: no event
    for step in range(1, 6):
        market.generate(START + step * 100, 1000)
        market.book_version += 1
        diff = book.advance(market)
        assert diff is not None and diff.first_id == diff.last_id == market.book_version
        for side, changes in ((local_bids, diff.bids), (local_asks, diff.asks)):
            for price, qty in changes.items():
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        bids, asks = market.book(DIFF_DEPTH)
        assert local_bids == dict(bids) and local_asks == dict(asks)


def test_incoming_limit_is_five_in_any_second() -> None:
    limit = SlidingCount(5, 1.0)
    assert not any(limit.add(t) for t in (0.0, 0.1, 0.2, 0.3, 0.4))
    assert not limit.add(1.05)  # 0.0 left the window
    assert limit.add(1.06)  # 0.1 .. 1.06: six


def test_a_second_without_trades_is_flat_at_the_last_close() -> None:
    market = _market()
    market._print(START + 1_200, 250_000, 10, False)
    market._print(START + 1_700, 251_000, 10, True)
    assert market.live_second((START + 1_000) // 1000)[4] == 251_000
    flat = market.live_second((START + 4_000) // 1000)
    assert flat == [START + 4_000, 251_000, 251_000, 251_000, 251_000, 0, 0, 0, 0, 0, 0, 0]
    assert isinstance(market.recent[-1], Trade)
