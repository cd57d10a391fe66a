"""Reads: the audit trail search, and who sees which alert rules and notifications."""

from __future__ import annotations

import pytest

from apps.ops.models import AlertNotification, AlertRule
from apps.ops.preferences import notification_preference_save
from apps.ops.selectors import alert_notification_list, alert_rule_list, audit_event_search, health_report_get
from apps.safety.audit import audit_record

pytestmark = pytest.mark.django_db


def test_audit_search_filters(django_user_model):
    user = django_user_model.objects.create_user(username="alice", password="x")
    audit_record(category="order", action="order_placed", actor=user, portfolio_id=1, symbol="BTCUSDT")
    audit_record(category="order", action="order_cancelled", actor=user, portfolio_id=2, symbol="ETHUSDT")
    audit_record(category="fill", action="fill", portfolio_id=1, symbol="BTCUSDT")
    assert audit_event_search(user_id=user.pk).count() == 2
    assert audit_event_search(portfolio_id=1, symbol="btcusdt").count() == 2
    assert [e.action for e in audit_event_search(action="order_cancelled")] == ["order_cancelled"]
    first = audit_event_search().last()
    assert audit_event_search(since=first.created_at).count() == 3


def _notification(rule: AlertRule, **fields: object) -> AlertNotification:
    defaults = {"channel": "email", "kind": "bot_error", "severity": "warning", "dedup_key": "k", "title": "t"}
    return AlertNotification.objects.create(rule=rule, **{**defaults, **fields})


def test_a_trader_sees_only_the_rule_and_notifications_of_their_preferences(django_user_model):
    alice = django_user_model.objects.create_user(username="alice", password="x", email="alice@desk.example")
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    operator = AlertRule.objects.create(name="operator", kind="*", min_severity="info", email_to="ops@desk.example")
    preference = notification_preference_save(user=alice, email_enabled=True, kinds=["bot_error"])
    mine = _notification(preference.rule, status="sent")
    theirs = _notification(operator, kind="feed_down", status="failed")
    assert list(alert_rule_list(user=alice)) == [preference.rule]
    assert list(alert_notification_list(user=alice)) == [mine]
    assert set(alert_rule_list(user=staff)) == {operator, preference.rule}
    assert list(alert_notification_list(user=staff)) == [theirs, mine]  # newest first
    assert list(alert_notification_list(user=staff, filters={"status": "sent", "kind": ""})) == [mine]


def test_the_health_report_runs_only_the_components_named():
    report = health_report_get(names=["cache"])
    assert [result.name for result in report.results] == ["cache"]
    assert set(report.as_dict()["components"]) == {"cache"}
