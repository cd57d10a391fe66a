"""A 100 BTC market buy through the order service walks the simulator's book as the feed keeps
it (full local books, docs/OPERATIONS.md "Order books"): level by level past 100 levels, and
an order larger than the published depth says exactly how much filled and how much expired.
Runs on SQLite too (Makefile SQLITE_TESTS)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.market import cache as market_cache
from apps.market.feeds.local_book import BOOK_LEVELS
from apps.market.simulator import ExchangeSimulator
from apps.portfolio.models import Fill
from apps.portfolio.services import order_place, portfolio_create
from tests.factories import instrument_make
from tests.market.feeds.helpers import start_feed, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SYMBOLS = ["BTCUSDT"]


@pytest.fixture
def sim(tmp_path):
    simulator = ExchangeSimulator(
        seed=11, symbols=SYMBOLS, trade_rate_hz=3.0, tripwire_log=tmp_path / "tripwires.jsonl"
    ).start_in_thread()
    yield simulator
    simulator.stop_thread()
    assert simulator.tripwire_hits == []  # the feed and the paper engine never touch a trading endpoint


def test_a_100_btc_market_buy_walks_the_simulator_book(sim, django_user_model):
    instrument_make()  # the simulator's BTCUSDT filters (tick 0.01, step 0.00001)
    user = django_user_model.objects.create_user(username="depth", password="pw-123456789")
    balances = {"USDT": "100000000"}
    portfolio = portfolio_create(owner=user, name="deep", starting_balances=balances, latency_ms=0)
    runner = start_feed(sim, "binance", symbols=SYMBOLS, stall_s=5.0)
    try:
        assert wait_for(lambda: market_cache.book_get("binance", "BTCUSDT") is not None, 20)
        order = order_place(
            portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="100"
        )
        fills = list(Fill.objects.filter(order=order).order_by("id"))
        prices = [f.price for f in fills]
        assert order.status == "filled", order.reason
        assert order.filled_qty == D("100") and sum(f.quantity for f in fills) == D("100")
        assert len(fills) >= 100 and prices == sorted(prices) and len(set(prices)) == len(prices)  # level by level

        # More than the published depth holds: it says exactly how much, and what expired.
        whale = order_place(
            portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="1000"
        )
        filled = whale.filled_qty
        # What the first order left of the levels (one it emptied stays empty until it refreshes).
        assert whale.status == "expired" and 0 < Fill.objects.filter(order=whale).count() <= BOOK_LEVELS
        expected = (
            f"Filled {filled.normalize():f} of 1000: the {BOOK_LEVELS} visible ask levels held no more; "
            f"the rest ({(D(1000) - filled).normalize():f}) expired."
        )
        assert whale.reason == expected
    finally:
        runner.stop()
