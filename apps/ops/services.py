from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import transaction

from apps.ops.models import NotificationPreference
from apps.safety.audit import audit_record

HEARTBEAT_KEY = "ops:heartbeat:{source}"


def heartbeat_record(*, source: str) -> str:
    now = f"{time.time():.3f}"
    cache.set(HEARTBEAT_KEY.format(source=source), now, timeout=None)
    return now


# ---- a trader's notification preferences: saving is apps/ops/preferences.py ------------


def notification_preference_delete(*, user: Any) -> bool:
    """Remove the trader's preferences, the rule that delivered them and that rule's delivery
    log (audited). False when there was nothing to delete."""
    with transaction.atomic():
        preference = NotificationPreference.objects.select_for_update().filter(user=user).first()
        if preference is None:
            return False
        rule = preference.rule
        audit_record(
            category="config",
            action="notification_preference.delete",
            actor=user,
            message=f"notification preferences of user {user.pk}",
            data={"kinds": preference.kinds, "rule": rule.name if rule else None},
        )
        preference.delete()
        if rule is not None:
            rule.delete()
    return True
