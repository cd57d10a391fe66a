from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from apps.ops import watchdog
from apps.ops.models import AlertNotification, AlertRule
from apps.safety.audit import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rule(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    return AlertRule.objects.create(name="all", kind="*", min_severity="info", email_to="ops@example.com")


def _kinds() -> list[str]:
    return sorted(AlertNotification.objects.values_list("kind", flat=True))


def test_feed_down_alerts_only_after_threshold(settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.HEALTH_FEED_EXCHANGES = ["binance"]
    settings.ALERT_FEED_DOWN_SECONDS = 120
    down = {"connected": False}
    now = time.time()
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.feed_watch(now=now, status_source=lambda exchange: down) == []
        assert watchdog.feed_watch(now=now + 60, status_source=lambda exchange: down) == []
        assert watchdog.feed_watch(now=now + 121, status_source=lambda exchange: down) == ["binance"]
        assert watchdog.feed_watch(now=now + 150, status_source=lambda exchange: down) == ["binance"]
    assert _kinds() == ["feed_down"]  # the second raise was a duplicate
    assert "binance feed down" in mailoutbox[0].subject
    fresh = {"connected": True, "age_seconds": 0.1}
    assert watchdog.feed_watch(now=now + 200, status_source=lambda exchange: fresh) == []
    assert cache.get(watchdog.FEED_DOWN_SINCE_KEY.format(exchange="binance")) is None


def test_audit_events_become_alerts(django_capture_on_commit_callbacks):
    watchdog.audit_watch()  # sets the cursor
    audit_record(category="bot", action="bot_tick", result="error", actor_label="bot-7", message="strategy raised")
    audit_record(category="safety", action="kill_switch_drawdown", message="drawdown 25% > 20%", portfolio_id=3)
    audit_record(category="trade_attempt", action="real_order", result="refused", symbol="BTCUSDT")
    audit_record(category="order", action="order_placed", symbol="BTCUSDT")
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.audit_watch() == 3
        assert watchdog.audit_watch() == 0
    assert _kinds() == ["bot_error", "kill_switch", "safety_violation"]


def test_error_rate_spike(settings, django_capture_on_commit_callbacks):
    settings.ALERT_ERRORS_PER_MINUTE = 3
    minute_start = (int(time.time() // 60)) * 60
    for _ in range(5):
        watchdog.server_error_record()
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog.error_rate_watch(now=minute_start + 61) == 5
    assert _kinds() == ["error_rate"]
