"""Resetting a portfolio to its starting balances."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.management import call_command

from apps.core.exceptions import ApplicationError
from apps.portfolio.models import Balance
from apps.portfolio.services import order_place, portfolio_reset
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def test_reset_needs_confirmation_then_restores_start(make_portfolio, std_book, user):
    p = make_portfolio()
    place(p, user, side="buy", order_type="market", quantity="1")
    resting = place(p, user, side="buy", order_type="limit", quantity="1", price="90")
    with pytest.raises(ApplicationError) as caught:
        portfolio_reset(portfolio=p, actor=user)
    assert caught.value.code == "confirmation_required"
    portfolio_reset(portfolio=p, actor=user, confirm=True)
    balances = {b.asset: (b.free, b.locked) for b in Balance.objects.filter(portfolio=p)}
    assert balances == {"USDT": (D("10000"), D(0)), "BTC": (D("1"), D(0))}
    resting.refresh_from_db()
    assert resting.status == "canceled" and resting.locked_amount == 0
    assert not p.positions.exists()
    assert AuditEvent.objects.filter(action="portfolio.reset").count() == 1
    call_command("ledger_check")
