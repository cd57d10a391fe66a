"""Applying executions: the portfolio's fees, reserves locked and released, status after a fill."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import transaction

from apps.portfolio.models import Order
from apps.portfolio.services.execution import fee_schedule, lock_funds, release_funds, status_after
from apps.portfolio.services.ledger import Posting, balances_lock

pytestmark = pytest.mark.django_db


def test_the_fee_schedule_is_the_portfolios_with_the_exchange_discount_when_chosen(make_portfolio):
    p = make_portfolio(taker_fee_rate="0.002")
    assert fee_schedule(p).rate("taker") == D("0.002")
    p.fee_discount = True
    discounted = fee_schedule(p)
    assert discounted.discount > 0 and discounted.rate("taker") == D("0.002") * (1 - discounted.discount)


def test_lock_then_release_moves_the_reserve_and_back(make_portfolio):
    p = make_portfolio(starting_balances={"USDT": "100"})
    order = Order(portfolio=p, symbol="BTCUSDT", side="buy", order_type="limit", quantity=D("1"), price=D("30"))
    with transaction.atomic():
        posting = Posting(portfolio=p, balances=balances_lock(portfolio=p))
        lock_funds(posting=posting, order=order, asset="USDT", amount=D("30"))
        assert (order.locked_asset, order.locked_amount) == ("USDT", D("30"))
        assert (posting.balances["USDT"].free, posting.balances["USDT"].locked) == (D("70"), D("30"))
        release_funds(posting=posting, order=order, memo="cancel")
        release_funds(posting=posting, order=order, memo="again")  # nothing left: no journal
    assert order.locked_amount == 0
    assert (posting.balances["USDT"].free, posting.balances["USDT"].locked) == (D("100"), D("0"))
    assert [j.kind for j in posting.journals] == ["lock", "release"]


@pytest.mark.parametrize(
    ("quantity", "filled", "exhausted", "status"),
    [
        ("1", "1", False, "filled"),
        ("1", "0.4", True, "partially_filled"),
        ("1", "0", True, "new"),
        (None, "0.4", False, "filled"),  # a quote-sized market order the book did not exhaust
        (None, "0.4", True, "partially_filled"),
    ],
)
def test_status_after_a_fill(quantity, filled, exhausted, status):
    order = Order(quantity=None if quantity is None else D(quantity), filled_qty=D(filled))
    assert status_after(order, exhausted=exhausted) == status
