from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from apps.core.exceptions import ApplicationError, ConflictError
from apps.ops.models import AlertKind, AlertRule, Severity
from apps.ops.selectors import user_rule_name
from apps.safety.audit import audit_record

HEARTBEAT_KEY = "ops:heartbeat:{source}"


def heartbeat_record(*, source: str) -> str:
    now = f"{time.time():.3f}"
    cache.set(HEARTBEAT_KEY.format(source=source), now, timeout=None)
    return now


# ---- a user's own notification rule (one per user, named "user:<id>"), for the API --------


USER_RULE_FIELDS = ("enabled", "email_to", "kind", "min_severity")


def _rule_fields(rule: AlertRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in USER_RULE_FIELDS}


def _user_rule_check(*, enabled: bool, email_to: str) -> None:
    if enabled and not email_to:
        message = "An address is needed to send alerts."
        raise ApplicationError(f"email: {message}", code="invalid", fields={"email": [message]})


def _rule_audit(*, rule: AlertRule, actor: Any, action: str, data: dict[str, Any]) -> None:
    audit_record(category="config", action=action, actor=actor, message=f"alert rule {rule.name}", data=data)


def alert_rule_user_create(
    *,
    user: Any,
    enabled: bool = True,
    email: str = "",
    kind: str = AlertKind.ANY,
    min_severity: str = Severity.WARNING,
) -> AlertRule:
    """The user's notification rule (email only: a per-user webhook would let anyone make
    the server call any URL). 409 when the user already has one."""
    email_to = (email or getattr(user, "email", "") or "").strip()
    _user_rule_check(enabled=enabled, email_to=email_to)
    name = user_rule_name(user)
    with transaction.atomic():
        if AlertRule.objects.filter(name=name).exists():
            raise ConflictError("You already have a notification rule; change it instead.", code="alert_rule_exists")
        try:
            with transaction.atomic():
                rule = AlertRule.objects.create(
                    name=name,
                    enabled=enabled,
                    email_to=email_to,
                    kind=kind,
                    min_severity=min_severity,
                    source=AlertRule.Source.ADMIN,
                )
        except IntegrityError:  # created by a concurrent request
            raise ConflictError(
                "You already have a notification rule; change it instead.", code="alert_rule_exists"
            ) from None
        _rule_audit(rule=rule, actor=user, action="alert_rule.create", data=_rule_fields(rule))
    return rule


def alert_rule_user_update(
    *,
    rule: AlertRule,
    actor: Any,
    enabled: bool | None = None,
    email: str | None = None,
    kind: str | None = None,
    min_severity: str | None = None,
) -> AlertRule:
    """Change the user's own rule (None leaves a field as it is)."""
    requested = {"enabled": enabled, "email_to": email, "kind": kind, "min_severity": min_severity}
    with transaction.atomic():
        locked = AlertRule.objects.select_for_update().get(pk=rule.pk)
        before = _rule_fields(locked)
        for name, value in requested.items():
            if value is not None:
                setattr(locked, name, value.strip() if isinstance(value, str) else value)
        _user_rule_check(enabled=locked.enabled, email_to=locked.email_to)
        after = _rule_fields(locked)
        if after != before:
            locked.save()
            _rule_audit(rule=locked, actor=actor, action="alert_rule.update", data={"from": before, "to": after})
    return locked


def alert_rule_user_delete(*, rule: AlertRule, actor: Any) -> None:
    """Delete the user's rule and the record of what it sent."""
    with transaction.atomic():
        _rule_audit(rule=rule, actor=actor, action="alert_rule.delete", data=_rule_fields(rule))
        rule.delete()
