from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.safety.alerts import safety_alert_latest
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.guards import paper_trade_guard
from apps.safety.models import AuditEvent
from tests.safety.conftest import violations_count

pytestmark = pytest.mark.django_db

PAPER = {"symbol": "BTCUSDT", "exchange": "binance", "side": "buy", "type": "market", "quantity": "0.01"}

REFUSED = [
    ({"mode": "live"}, "mode"),
    ({"mode": "REAL"}, "mode"),
    ({"tradingMode": "Live"}, "tradingMode"),
    ({"execution": "exchange"}, "execution"),
    ({"venue": "binance"}, "venue"),
    ({"live": True}, "live"),
    ({"real": "yes"}, "real"),
    ({"real_trading": 1}, "real_trading"),
    ({"paper": False}, "paper"),
    ({"dry_run": "false"}, "dry_run"),
    ({"send_to_exchange": True}, "send_to_exchange"),
    ({"exchange_account_id": 42}, "exchange_account_id"),
    ({"binanceAccount": "main"}, "binanceAccount"),
    ({"account": "main"}, "account"),
    ({"apiKey": "abc"}, "apiKey"),
    ({"api_secret": "abc"}, "api_secret"),
    ({"X-MBX-APIKEY": "abc"}, "X-MBX-APIKEY"),
    ({"passphrase": "p"}, "passphrase"),
    ({"settings": {"ALLOW_REAL_TRADES": "true"}}, "settings.ALLOW_REAL_TRADES"),
    ({"settings": {"TRADING_SIMULATION_ONLY": "false"}}, "settings.TRADING_SIMULATION_ONLY"),
    ({"legs": [{"mode": "live"}]}, "legs[0].mode"),
]


@pytest.mark.parametrize(("extra", "field"), REFUSED)
def test_real_trading_requests_are_refused_audited_counted_alerted(extra, field):
    user = get_user_model().objects.create_user("alice", password="x")
    before = violations_count("paper_guard")
    with pytest.raises(RealTradingAttemptError) as caught:
        paper_trade_guard(payload={**PAPER, **extra}, actor=user, source="api", source_ip="10.0.0.7")
    error = caught.value
    assert error.status == 403 and error.code == "real_trading_refused" and error.layer == "paper_guard"
    assert field in error.detail["fields"]
    assert violations_count("paper_guard") == before + 1
    event = AuditEvent.objects.get()
    assert (event.category, event.action, event.result) == ("trade_attempt", "trade_refused_api", "refused")
    assert event.actor == user and event.source_ip == "10.0.0.7" and event.symbol == "BTCUSDT"
    assert "***" not in str(extra) or "abc" not in str(event.data)
    assert safety_alert_latest()["layer"] == "paper_guard"


@pytest.mark.parametrize(
    "payload",
    [
        PAPER,
        {**PAPER, "mode": "paper"},
        {**PAPER, "paper": True},
        {**PAPER, "type": "limit", "price": "50000", "time_in_force": "GTC"},
        {**PAPER, "portfolio_id": 3, "client_order_id": "abc-123"},
        {**PAPER, "exchange": "kucoin", "symbol": "BTC-USDT"},
    ],
)
def test_paper_requests_pass(payload):
    paper_trade_guard(payload=payload, actor="bot:7", source="bot")
    assert not AuditEvent.objects.exists()


def test_secrets_are_masked_in_the_audit_log():
    with pytest.raises(RealTradingAttemptError):
        paper_trade_guard(payload={**PAPER, "api_secret": "TOPSECRET"}, actor="bot:1", source="bot")
    event = AuditEvent.objects.get()
    assert "TOPSECRET" not in str(event.data) and event.actor_label == "bot:1"


def test_admin_attempt_is_refused_and_labelled():
    staff = get_user_model().objects.create_user("root", password="x", is_staff=True, is_superuser=True)
    with pytest.raises(RealTradingAttemptError):
        paper_trade_guard(payload={"mode": "live"}, actor=staff, source="admin")
    assert AuditEvent.objects.get().action == "trade_refused_admin"


def test_non_object_and_too_deep_payloads_are_refused():
    with pytest.raises(RealTradingAttemptError):
        paper_trade_guard(payload=["mode", "live"], actor=None, source="api")  # type: ignore[arg-type]
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["n"] = {}
        node = node["n"]
    with pytest.raises(RealTradingAttemptError, match="nested"):
        paper_trade_guard(payload=deep, actor=None, source="api")
    assert AuditEvent.objects.count() == 2
