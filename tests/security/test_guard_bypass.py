"""Attempts to get a real order out through every door: crafted API payloads, the page
ticket, bot parameters, the admin, direct service calls, and environment tampering at
runtime. Each must be refused (or stay paper), audited, and reach no exchange."""

from __future__ import annotations

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from apps.portfolio.models import Order
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db

FLAGS = [
    {"mode": "live"},
    {"execution": "exchange"},
    {"live": True},
    {"paper": False},
    {"dry_run": "false"},
    {"send_to_exchange": True},
    {"apiKey": "abc"},
    {"settings": {"ALLOW_REAL_TRADES": "true"}},
    {"legs": [{"mode": "live"}]},
]


def _order(portfolio_id: int, **extra) -> dict:
    return {"portfolio": portfolio_id, "symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "0.1", **extra}


def _refusals() -> int:
    return AuditEvent.objects.filter(result="refused").count()


@pytest.mark.parametrize("extra", FLAGS)
def test_api_order_payloads_asking_for_real_execution_are_refused_and_audited(alice_objects, alice_api, extra):
    orders, refusals = Order.objects.count(), _refusals()
    response = alice_api.post("/api/v1/orders/", _order(alice_objects.portfolio.pk, **extra), format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "real_trading_refused" or "real" in response.json()["error"]["message"]
    assert Order.objects.count() == orders
    assert _refusals() == refusals + 1


def test_page_ticket_with_real_execution_field_is_refused(alice_objects, alice):
    client = Client()
    client.force_login(alice)
    orders = Order.objects.count()
    response = client.post(
        "/markets/binance/BTCUSDT/ticket/",
        {"portfolio": alice_objects.portfolio.pk, "side": "buy", "type": "market", "quantity": "0.1",
         "execution": "exchange"},
    )  # fmt: skip
    # The page path goes through the same paper-trading middleware as the API: refused,
    # audited, and no order is placed.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "real_trading_refused"
    assert Order.objects.count() == orders


@pytest.mark.parametrize("where", ["params", "risk"])
def test_bot_configuration_cannot_smuggle_real_execution(alice_objects, alice_api, where):
    from apps.bots.models import Bot

    bots = Bot.objects.count()
    body = {"name": "sneaky", "portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "strategy": "dca",
            where: {"interval_candles": 1, "mode": "live"} if where == "params" else {"execution": "exchange"}}  # fmt: skip
    response = alice_api.post("/api/v1/bots/", body, format="json")
    assert response.status_code in (400, 403), response.content
    assert Bot.objects.count() == bots


def test_admin_order_form_with_real_execution_field_is_refused(alice_objects):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789-x")
    client = Client()
    client.force_login(admin)
    orders = Order.objects.count()
    response = client.post(
        "/admin/portfolio/order/add/",
        {"portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "side": "buy", "order_type": "market",
         "quantity": "0.1", "execution": "exchange", "mode": "live"},
    )  # fmt: skip
    assert response.status_code in (200, 403)  # refused, or the form re-rendered with the refusal
    assert Order.objects.count() == orders
    # Existing orders cannot be edited into anything through the admin.
    order = alice_objects.order
    client.post(f"/admin/portfolio/order/{order.pk}/change/", {"status": "new", "filled_qty": "0"})
    order.refresh_from_db()
    assert order.status == alice_objects.order.status and order.filled_qty == alice_objects.order.filled_qty


@pytest.mark.parametrize("extra", [{"execution": "exchange"}, {"mode": "live"}, {"api_secret": "s"}])
def test_direct_service_calls_are_guarded_too(alice_objects, alice, extra):
    from apps.portfolio.services import order_place

    orders = Order.objects.count()
    with pytest.raises(RealTradingAttemptError):
        order_place(
            portfolio=alice_objects.portfolio, actor=alice, symbol="BTCUSDT", side="buy", order_type="market",
            quantity="0.1", source="script", extra=extra,
        )  # fmt: skip
    assert Order.objects.count() == orders


def test_environment_tampering_at_runtime_enables_nothing(alice_objects, alice_api, settings, monkeypatch):
    from apps.safety.selectors import safety_status_compute
    from apps.safety.transport import GuardedSession

    for name, value in (("ALLOW_REAL_TRADES", "true"), ("TRADING_SIMULATION_ONLY", "false"),
                        ("PAPER_TRADING_MODE", "false")):  # fmt: skip
        monkeypatch.setenv(name, value)
        setattr(settings, name, value)
    # The tampering is seen: the safety status fails (readiness goes red, alert rules fire).
    status = safety_status_compute()
    assert status["ok"] is False
    # Orders are still paper: filled against the recorded book, in the virtual ledger only.
    response = alice_api.post("/api/v1/orders/", _order(alice_objects.portfolio.pk), format="json")
    if response.status_code == 201:
        order = Order.objects.get(pk=response.json()["id"])
        assert order.status == "filled" and order.fills.count() >= 1
    else:
        assert response.status_code in (403, 503), response.content  # refusing to trade at all is fine too
    # And the transport still refuses every order endpoint before any byte leaves.
    session = GuardedSession("binance")
    for method, url in (("POST", "https://api.binance.com/api/v3/order"),
                        ("POST", "https://api.binance.com/api/v3/order/test"),
                        ("DELETE", "https://api.binance.com/api/v3/openOrders?symbol=BTCUSDT"),
                        ("POST", "https://api.binance.com/sapi/v1/capital/withdraw/apply")):  # fmt: skip
        with pytest.raises(RealTradingAttemptError):
            session.request(method, url, timeout=0.01)
    with pytest.raises(RealTradingAttemptError):
        session.mount("https://", requests.adapters.HTTPAdapter())  # swapping the guarded adapter out
