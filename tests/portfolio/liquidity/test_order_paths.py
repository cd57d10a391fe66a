"""The order services on top of the shared store: what a walk really got is what counts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
import redis

from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.liquidity import liquidity_store_set
from apps.portfolio.liquidity.memory import MemoryLiquidity
from apps.portfolio.liquidity.redis_store import RedisLiquidity
from apps.portfolio.models import Balance, Fill, Order
from apps.portfolio.services import order_place
from tests.portfolio.conftest import make_book

pytestmark = pytest.mark.django_db


class RivalFirst(MemoryLiquidity):
    """The real in-process store, with another process's take of the best ask landing
    between this order's peek and its walk (the interleaving a race produces)."""

    def __init__(self, *, rival_qty: D) -> None:
        super().__init__()
        self.rival_qty: D | None = rival_qty

    def take(self, **level):
        if self.rival_qty is not None:
            rival, self.rival_qty = self.rival_qty, None
            super().take(**{**level, "quantity": rival})
        return super().take(**level)


@pytest.fixture
def store_set():
    installed = []

    def install(store):
        installed.append(liquidity_store_set(store))
        return store

    yield install
    for previous in reversed(installed):
        liquidity_store_set(previous)


def _buy(portfolio, user, **order):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", **order)


def test_a_market_order_refused_after_its_walk_gives_the_liquidity_back(make_portfolio, btc, user, store_set):
    book = make_book([("100", "0.5"), ("100.5", "5")], [("99.9", "5")])
    books.book_record(book)
    store = store_set(RivalFirst(rival_qty=D("0.5")))
    portfolio = make_portfolio(starting_balances={"USDT": "50"})  # pays 0.5 at 100, not at 100.5
    with pytest.raises(OrderRejectedError) as refused:
        _buy(portfolio, user, order_type="market", quantity="0.5")
    assert refused.value.code == "-2010"
    assert not Order.objects.filter(portfolio=portfolio).exists()
    assert store.free_levels(book=book, book_side="ask") == [D("0"), D("5")]  # 100.5 given back
    assert Balance.objects.get(portfolio=portfolio, asset="USDT").free == D("50")
    assert ledger_problems() == []


def test_a_fok_order_short_after_its_walk_expires_and_gives_the_liquidity_back(make_portfolio, btc, user, store_set):
    book = make_book([("100", "0.5"), ("100.5", "0.2")], [("99.9", "5")])
    books.book_record(book)
    store = store_set(RivalFirst(rival_qty=D("0.5")))
    portfolio = make_portfolio(starting_balances={"USDT": "1000"})
    order = _buy(portfolio, user, order_type="limit", quantity="0.7", price="100.5", time_in_force="FOK")
    assert order.status == "expired"
    assert not Fill.objects.filter(order=order).exists()
    assert store.free_levels(book=book, book_side="ask") == [D("0"), D("0.2")]
    usdt = Balance.objects.get(portfolio=portfolio, asset="USDT")
    assert (usdt.free, usdt.locked) == (D("1000"), D("0"))
    assert ledger_problems() == []


def test_orders_through_the_redis_store_see_each_others_takes(make_portfolio, btc, user, store_set, redis_url):
    books.book_record(make_book([("100", "0.5"), ("100.5", "5")], [("99.9", "5")]))
    store = store_set(RedisLiquidity(url=redis_url, prefix="test:liq:orders"))
    try:
        first = _buy(make_portfolio(), user, order_type="market", quantity="0.4")
        second = _buy(make_portfolio(), user, order_type="market", quantity="0.4")
    finally:
        store.clear()
    assert [(f.price, f.quantity) for f in first.fills.all()] == [(D("100"), D("0.4"))]
    assert sorted((f.price, f.quantity) for f in second.fills.all()) == [(D("100"), D("0.1")), (D("100.5"), D("0.3"))]
    assert ledger_problems() == []


def test_no_fill_without_the_shared_store(make_portfolio, btc, user, store_set):
    """Redis down: the order fails (the API answers 503), nothing is written."""
    books.book_record(make_book([("100", "0.5")], [("99.9", "5")]))
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    store_set(RedisLiquidity(client=client))
    portfolio = make_portfolio()
    with pytest.raises(redis.exceptions.ConnectionError):
        _buy(portfolio, user, order_type="market", quantity="0.1")
    assert not Order.objects.filter(portfolio=portfolio).exists()
    assert ledger_problems() == []
