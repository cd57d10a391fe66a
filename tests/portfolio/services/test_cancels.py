"""The one public cancel: releases the reserve once, audited; a closed order is unknown."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.models import Balance
from apps.portfolio.services import order_place
from apps.portfolio.services.cancels import order_cancel
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def _resting_buy(portfolio, user):
    return order_place(
        portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price="90"
    )


def test_a_cancel_releases_the_reserve_and_is_audited(make_portfolio, std_book, user):
    p = make_portfolio()
    order = _resting_buy(p, user)
    assert Balance.objects.get(portfolio=p, asset="USDT").locked == D("90")
    canceled = order_cancel(order=order, actor=user, source="page")
    assert (canceled.status, canceled.locked_amount) == ("canceled", D(0))
    usdt = Balance.objects.get(portfolio=p, asset="USDT")
    assert (usdt.free, usdt.locked) == (D("10000"), D(0))
    event = AuditEvent.objects.get(action="order.cancel", result="ok")
    assert (event.portfolio_id, event.data["source"]) == (p.pk, "page")


def test_cancelling_a_closed_order_is_the_exchanges_unknown_order_error(make_portfolio, std_book, user):
    p = make_portfolio()
    order = _resting_buy(p, user)
    order_cancel(order=order, actor=user)
    with pytest.raises(OrderRejectedError) as caught:
        order_cancel(order=order, actor=user)
    assert caught.value.code == "-2011"
    assert Balance.objects.get(portfolio=p, asset="USDT").free == D("10000")  # released once, not twice
    assert AuditEvent.objects.filter(action="order.cancel").exclude(result="ok").count() == 1
