"""Operations writes: the heartbeat, and deleting a trader's notification preferences."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.ops.models import AlertNotification, AlertRule, NotificationPreference
from apps.ops.preferences import notification_preference_save
from apps.ops.services import HEARTBEAT_KEY, heartbeat_record, notification_preference_delete
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_heartbeat_stores_when_it_beat():
    beat = heartbeat_record(source="test-source")
    assert cache.get(HEARTBEAT_KEY.format(source="test-source")) == beat
    assert float(beat) > 0


def test_deleting_preferences_removes_their_rule_and_its_log_audited(django_user_model):
    alice = django_user_model.objects.create_user(username="alice", password="x", email="alice@desk.example")
    preference = notification_preference_save(user=alice, email_enabled=True, kinds=["bot_error"])
    rule = preference.rule
    AlertNotification.objects.create(rule=rule, channel="email", kind="bot_error", severity="warning", title="t")
    assert notification_preference_delete(user=alice) is True
    assert not NotificationPreference.objects.filter(user=alice).exists()
    assert not AlertRule.objects.filter(pk=rule.pk).exists()
    assert not AlertNotification.objects.filter(rule_id=rule.pk).exists()
    assert AuditEvent.objects.filter(action="notification_preference.delete", actor=alice).count() == 1
    assert notification_preference_delete(user=alice) is False
