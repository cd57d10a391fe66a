from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from apps.ops.alerting import SIGNATURE_HEADER, TIMESTAMP_HEADER, alert_raise
from apps.ops.models import AlertNotification, AlertRule

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = _Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    yield inbox
    controller.stop()


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(settings):
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.ALERT_WEBHOOK_SECRET = SECRET
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def rule(webhook):
    url, _ = webhook
    return AlertRule.objects.create(
        name="ops-team",
        kind="*",
        min_severity="warning",
        email_to="ops@example.com, oncall@example.com",
        webhook_url=url,
        dedup_seconds=600,
        max_per_hour=3,
    )


def _raise(django_capture_on_commit_callbacks, **overrides):
    fields = {
        "kind": "safety_violation",
        "severity": "critical",
        "title": "real order refused",
        "message": "POST /api/v3/order blocked by the transport guard",
        "dedup_key": "safety:transport:order",
        "data": {"path": "/api/v3/order", "exchange": "binance"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        return alert_raise(**{**fields, **overrides})


def test_email_and_webhook_arrive_with_content(smtp, webhook, rule, django_capture_on_commit_callbacks):
    outcomes = _raise(django_capture_on_commit_callbacks)
    assert sorted(o.status for o in outcomes) == ["pending", "pending"]

    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert sorted(recipients) == ["oncall@example.com", "ops@example.com"]
    assert message["Subject"] == "[PTP CRITICAL] real order refused"
    text = message.get_payload(decode=True).decode()
    assert "POST /api/v3/order blocked" in text
    assert "kind: safety_violation" in text

    _, received = webhook
    assert len(received) == 1
    headers, body = received[0]
    payload = json.loads(body)
    assert payload["kind"] == "safety_violation"
    assert payload["severity"] == "critical"
    assert payload["data"] == {"path": "/api/v3/order", "exchange": "binance"}
    expected = hmac.new(SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert set(AlertNotification.objects.values_list("status", flat=True)) == {"sent"}


def test_same_alert_is_not_duplicated(smtp, webhook, rule, django_capture_on_commit_callbacks):
    _raise(django_capture_on_commit_callbacks)
    again = _raise(django_capture_on_commit_callbacks)
    assert [o.status for o in again] == ["duplicate", "duplicate"]
    assert len(smtp.messages) == 1
    assert len(webhook[1]) == 1


def test_rate_limited_per_rule(smtp, webhook, rule, django_capture_on_commit_callbacks):
    statuses = [
        _raise(django_capture_on_commit_callbacks, dedup_key=f"k{i}", title=f"alert {i}")[0].status for i in range(5)
    ]
    assert statuses == ["pending", "pending", "pending", "rate_limited", "rate_limited"]
    assert len(smtp.messages) == 3
    assert len(webhook[1]) == 3


def test_rules_filter_kind_and_severity(smtp, webhook, rule, django_capture_on_commit_callbacks):
    rule.kind = "feed_down"
    rule.save()
    assert _raise(django_capture_on_commit_callbacks) == []
    assert [o.status for o in _raise(django_capture_on_commit_callbacks, kind="feed_down", severity="info")] == []
    assert len(_raise(django_capture_on_commit_callbacks, kind="feed_down")) == 2


def test_webhook_failure_is_recorded(smtp, rule, dead_port, django_capture_on_commit_callbacks):
    rule.webhook_url = f"http://127.0.0.1:{dead_port}/hook"
    rule.save()
    _raise(django_capture_on_commit_callbacks)
    failed = AlertNotification.objects.get(channel="webhook")
    assert failed.status == "failed"
    assert "ConnectionError" in failed.error
    assert AlertNotification.objects.get(channel="email").status == "sent"


def test_settings_rules_are_synced(settings, smtp, django_capture_on_commit_callbacks):
    settings.OPS_ALERT_RULES = [{"name": "from-settings", "kind": "*", "email_to": "admin@example.com"}]
    outcomes = _raise(django_capture_on_commit_callbacks)
    assert [(o.rule, o.channel, o.status) for o in outcomes] == [("from-settings", "email", "pending")]
    assert AlertRule.objects.get(name="from-settings").source == "settings"
    assert len(smtp.messages) == 1


def test_safety_alert_hook_reaches_email_and_webhook(smtp, webhook, rule, django_capture_on_commit_callbacks):
    from apps.safety.alerts import safety_alert_raise

    with django_capture_on_commit_callbacks(execute=True):
        safety_alert_raise(layer="transport", message="POST /api/v3/order refused", detail={"path": "/api/v3/order"})
        safety_alert_raise(layer="transport", message="POST /api/v3/order refused", detail={"path": "/api/v3/order"})
    assert len(smtp.messages) == 1
    assert smtp.messages[0][1]["Subject"] == "[PTP CRITICAL] Real trading refused (transport)"
    payload = json.loads(webhook[1][0][1])
    assert payload["kind"] == "safety_violation"
    assert payload["data"]["detail"] == {"path": "/api/v3/order"}
    assert len(webhook[1]) == 1


def test_the_status_page_channel_needs_no_configuration_and_merges_with_the_others(
    settings, smtp, client, django_user_model, django_capture_on_commit_callbacks
):
    """make run configures no mail or webhook; its alerts are still listed on the status page
    (one row per raised alert, with each channel's fate)."""
    settings.OPS_ALERT_RULES = [
        {"name": "status-page", "kind": "*", "min_severity": "warning", "page": True},
        {"name": "mail", "kind": "*", "email_to": "ops@example.com"},
    ]
    outcomes = _raise(django_capture_on_commit_callbacks)
    assert sorted((o.rule, o.channel, o.status) for o in outcomes) == [
        ("mail", "email", "pending"),
        ("status-page", "page", "sent"),
    ]
    assert len(smtp.messages) == 1
    _raise(django_capture_on_commit_callbacks)  # de-duplicated on every channel
    assert AlertNotification.objects.filter(channel="page").count() == 1
    client.force_login(django_user_model.objects.create_user("ops", password="x-Long-pass-1"))
    page = client.get("/status/").content.decode()
    assert page.count("real order refused") == 1 and "email sent · page" in page
