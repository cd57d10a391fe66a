"""Changing and deleting portfolios: audited, name checks, refused while something is live."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.core.exceptions import ApplicationError, ConflictError
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services import order_cancel, order_place
from apps.portfolio.services.portfolio_admin import portfolio_delete, portfolio_update
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_update_changes_only_what_differs_and_audits_old_and_new(make_portfolio, user):
    p = make_portfolio(name="main")
    updated = portfolio_update(portfolio=p, actor=user, name=" renamed ", taker_fee_rate="0.002", latency_ms=0)
    assert (updated.name, updated.taker_fee_rate) == ("renamed", D("0.002"))
    event = AuditEvent.objects.get(action="portfolio.update")
    changes = event.data["changes"]
    assert set(changes) == {"name", "taker_fee_rate"}  # latency_ms was 0 already
    assert changes["name"] == {"from": "main", "to": "renamed"}
    assert D(changes["taker_fee_rate"]["from"]) == p.taker_fee_rate and changes["taker_fee_rate"]["to"] == "0.002"
    portfolio_update(portfolio=p, actor=user, name="renamed")
    assert AuditEvent.objects.filter(action="portfolio.update").count() == 1  # nothing changed: no record


def test_a_blank_or_taken_name_is_refused(make_portfolio, user):
    make_portfolio(name="taken")
    p = make_portfolio(name="mine")
    for name in ("  ", "taken"):
        with pytest.raises(ApplicationError) as caught:
            portfolio_update(portfolio=p, actor=user, name=name)
        assert set(caught.value.fields) == {"name"}
    p.refresh_from_db()
    assert p.name == "mine"


def test_delete_is_refused_while_an_order_is_open_then_removes_all_but_the_audit(make_portfolio, std_book, user):
    p = make_portfolio()
    order = order_place(
        portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price="90"
    )
    with pytest.raises(ConflictError) as caught:
        portfolio_delete(portfolio=p, actor=user)
    assert caught.value.code == "portfolio_has_open_orders"
    order_cancel(order=order, actor=user)
    portfolio_delete(portfolio=p, actor=user)
    assert not Portfolio.objects.filter(pk=p.pk).exists() and not Order.objects.filter(portfolio_id=p.pk).exists()
    event = AuditEvent.objects.get(action="portfolio.delete")
    assert (event.portfolio_id, event.data["orders"]) == (p.pk, 1)
