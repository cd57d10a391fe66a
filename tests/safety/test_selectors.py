"""Reads of the safety state: the score and its gauges, its cache, and the audit log."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from prometheus_client import REGISTRY

from apps.safety.audit import audit_record
from apps.safety.selectors import (
    STATUS_CACHE_KEY,
    audit_event_list,
    safety_banner_state,
    safety_status_compute,
    safety_status_get,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_status():
    """The status computed here (some with real trades allowed) must not reach other tests."""
    cache.delete(STATUS_CACHE_KEY)
    yield
    cache.delete(STATUS_CACHE_KEY)


def test_metrics_follow_the_status(settings):
    settings.ALLOW_REAL_TRADES = "true"
    status = safety_status_compute()
    assert status["ok"] is False
    assert REGISTRY.get_sample_value("ptp_safety_score") == status["score"]
    assert REGISTRY.get_sample_value("ptp_safety_check_passed", {"check": "real_trades_disallowed"}) == 0
    assert REGISTRY.get_sample_value("ptp_safety_check_passed", {"check": "simulation_only"}) == 1


def test_the_status_is_computed_once_then_read_from_the_cache(settings):
    first = safety_status_get()
    assert first["ok"] is True and cache.get(STATUS_CACHE_KEY) == first
    settings.ALLOW_REAL_TRADES = "true"  # not seen until the cached status expires
    assert safety_status_get() == first
    assert safety_banner_state() == {"score": first["score"], "ok": True}
    cache.delete(STATUS_CACHE_KEY)
    assert safety_status_get()["ok"] is False


def test_a_user_sees_their_own_audit_events_and_staff_see_all(django_user_model):
    alice = django_user_model.objects.create_user(username="alice", password="x")
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    audit_record(category="order", action="order_placed", actor=alice, symbol="BTCUSDT")
    audit_record(category="order", action="order_placed", actor=alice, symbol="ETHUSDT", result="refused")
    audit_record(category="config", action="settings", actor=staff)
    assert audit_event_list(user=alice).count() == 2
    assert [e.symbol for e in audit_event_list(user=alice, filters={"result": "refused"})] == ["ETHUSDT"]
    assert audit_event_list(user=staff).count() >= 3
    assert audit_event_list(user=staff, filters={"category": "config", "symbol": ""}).filter(actor=staff).count() == 1
