"""An ordinary rejection (insufficient balance, a filter, an unknown order) is the exchange
saying no: it is audited as a rejected order, never counted or alerted as a safety
violation. Only a request for real execution is one."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.ops import watchdog
from apps.ops.models import AlertNotification, AlertRule
from apps.portfolio.errors import InsufficientBalanceError, OrderRejectedError
from apps.portfolio.services import order_cancel, order_place
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.metrics import SAFETY_VIOLATIONS
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _alert_everything(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    AlertRule.objects.create(name="all", kind="*", min_severity="info", email_to="ops@example.com")
    watchdog.audit_watch()  # sets the cursor


def _violations_counted() -> float:
    return sum(
        sample.value
        for metric in SAFETY_VIOLATIONS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _place(portfolio, user, **kwargs):
    kwargs.setdefault("symbol", "BTCUSDT")
    return order_place(portfolio=portfolio, actor=user, **kwargs)


def test_insufficient_balance_is_a_rejection_not_a_safety_violation(
    make_portfolio, std_book, user, django_capture_on_commit_callbacks
):
    portfolio = make_portfolio(starting_balances={"USDT": "10"})
    before = _violations_counted()
    with pytest.raises(InsufficientBalanceError):
        _place(portfolio, user, side="buy", order_type="market", quantity="5")
    with pytest.raises(OrderRejectedError):
        _place(portfolio, user, side="buy", order_type="limit", quantity="1", price="99.05")
    event = AuditEvent.objects.filter(portfolio_id=portfolio.pk).latest("id")
    assert (event.category, event.action, event.result) == ("order", "order.place", "rejected")
    assert not AuditEvent.objects.filter(category__in=["safety", "trade_attempt"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.audit_watch() == 0
    assert _violations_counted() == before
    assert not AlertNotification.objects.filter(kind="safety_violation").exists()


def test_cancel_of_a_closed_order_is_a_rejection(make_portfolio, std_book, user, django_capture_on_commit_callbacks):
    portfolio = make_portfolio()
    order = _place(portfolio, user, side="buy", order_type="limit", quantity="1", price="90")
    order_cancel(order=order, actor=user)
    with pytest.raises(OrderRejectedError):
        order_cancel(order=order, actor=user)
    event = AuditEvent.objects.filter(portfolio_id=portfolio.pk, action="order.cancel").latest("id")
    assert event.result == "rejected"
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.audit_watch() == 0


def test_a_real_execution_request_is_still_a_violation(
    make_portfolio, std_book, user, django_capture_on_commit_callbacks
):
    portfolio = make_portfolio()
    before = _violations_counted()
    with pytest.raises(RealTradingAttemptError):
        _place(portfolio, user, side="buy", order_type="market", quantity="0.01", extra={"mode": "live"})
    assert _violations_counted() == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.audit_watch() == 1
    assert AlertNotification.objects.filter(kind="safety_violation").exists()
