"""A trader's notification preferences (the settings page): alerts about their own bots.

Writes (``notification_preference_save``) and reads (``notification_preference_get``,
``preference_rule_for``) of ``NotificationPreference``, kept apart from the operators' alert
rules in ``services.py``. Delivery goes through ``apps.ops.alerting`` via the preference's
backing AlertRule (source "user"), which ``alert_raise`` hands only the owner's alerts.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from apps.core.exceptions import ConflictError, RuleError
from apps.ops import webhook_delivery
from apps.ops.models import USER_ALERT_KINDS, AlertKind, AlertRule, NotificationPreference, Severity
from apps.safety.audit import audit_record

USER_RULE_PREFIX = "user:"


def webhook_url_problem(url: str) -> str | None:
    """Why a user's webhook URL is refused, or None. The server POSTs to it, so it must be an
    https URL on a public host: never loopback, private, link-local or a bare internal name
    (otherwise any trader could make the server call internal services)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "Use an https:// URL."
    host = parts.hostname.lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")) or "." not in host:
        return "The webhook must be on a public host."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return _resolved_problem(url)
    if not address.is_global:
        return "The webhook must be on a public host."
    return None


def _resolved_problem(url: str) -> str | None:
    """Refuse names that resolve to internal addresses (127.0.0.1.nip.io, localtest.me) now;
    a name that does not resolve yet is checked again, with the address pinned, at delivery."""
    try:
        webhook_delivery.webhook_target(url=url, resolver=webhook_delivery.webhook_resolver, public_only=True)
    except webhook_delivery.WebhookRefused as exc:
        return None if "does not resolve" in exc.message else "The webhook must be on a public host."
    return None


def _check(*, email_enabled: bool, address: str, webhook_url: str, kinds: list[str]) -> None:
    fields: dict[str, list[str]] = {}
    unknown = sorted(set(kinds) - set(USER_ALERT_KINDS))
    if unknown:
        fields["kinds"] = [f"unknown alert kind: {', '.join(unknown)}"]
    if email_enabled and not address:
        fields["email"] = ["An address is needed to send alerts by email."]
    problem = webhook_url_problem(webhook_url) if webhook_url else None
    if problem:
        fields["webhook_url"] = [problem]
    if fields:
        # The API's schema covers the fields one by one; these rules are between them or
        # about the host (422).
        raise RuleError("Check the notification preferences.", code="invalid", fields=fields)


def notification_preference_save(
    *,
    user: Any,
    email_enabled: bool,
    email: str = "",
    webhook_url: str = "",
    kinds: Iterable[str] = (),
) -> NotificationPreference:
    """Store the trader's choices and sync the rule that delivers them (audited)."""
    requested = list(kinds)
    email, webhook_url = email.strip(), webhook_url.strip()
    address = email or getattr(user, "email", "") or ""
    _check(email_enabled=email_enabled, address=address, webhook_url=webhook_url, kinds=requested)
    chosen = [kind for kind in USER_ALERT_KINDS if kind in requested]
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        preference.email_enabled, preference.email = email_enabled, email
        preference.webhook_url, preference.kinds = webhook_url, chosen
        # The rule matches every kind and severity: alert_raise only offers it the owner's
        # alerts of the chosen kinds, so the preference is the one filter.
        rule, _ = AlertRule.objects.update_or_create(
            name=f"{USER_RULE_PREFIX}{user.pk}",
            defaults={
                "source": AlertRule.Source.USER,
                "kind": AlertKind.ANY,
                "min_severity": Severity.INFO,
                "email_to": address if email_enabled else "",
                "webhook_url": webhook_url,
                "enabled": bool(chosen) and (email_enabled or bool(webhook_url)),
            },
        )
        new_secret = _signing_secret_sync(rule=rule, webhook_url=webhook_url)
        preference.rule = rule
        preference.save()
        preference.new_signing_secret = new_secret  # shown once, never stored in the clear elsewhere
        audit_record(
            category="config",
            action="notification_preference.save",
            actor=user,
            message=f"notification preferences of user {user.pk}",
            data={"email_enabled": email_enabled, "webhook": bool(webhook_url), "kinds": chosen},
        )
    return preference


def _signing_secret_sync(*, rule: AlertRule, webhook_url: str, rotate: bool = False) -> str | None:
    """Give the rule a signing secret when it first gets a webhook (or on rotation); returns
    the new secret, else None. No webhook: no secret."""
    made = secrets.token_hex(32) if webhook_url and (rotate or not rule.signing_secret) else None
    rule.signing_secret = made or (rule.signing_secret if webhook_url else "")
    rule.save(update_fields=["signing_secret", "updated_at"])
    return made


def notification_webhook_secret_rotate(*, user: Any) -> str:
    """A new signing secret for the trader's webhook (the old one stops verifying); audited."""
    with transaction.atomic():
        preference = NotificationPreference.objects.select_for_update().filter(user=user).first()
        if preference is None or preference.rule is None or not preference.webhook_url:
            raise ConflictError("Save a webhook URL first.", code="no_webhook", fields={"webhook_url": ["no webhook"]})
        secret = _signing_secret_sync(rule=preference.rule, webhook_url=preference.webhook_url, rotate=True)
        audit_record(
            category="config",
            action="notification_preference.rotate_secret",
            actor=user,
            message=f"webhook signing secret of user {user.pk} rotated",
            data={},
        )
    return secret or ""  # never empty: rotate=True always makes one


def notification_preference_get(*, user: Any) -> NotificationPreference | None:
    return NotificationPreference.objects.filter(user=user).select_related("rule").first()


def _alert_owner_id(data: Mapping[str, Any]) -> int | None:
    """The owner of the bot an alert is about. Only the bot runner's own alerts carry a bot id:
    the watchdog's copies of the same events (from the audit trail) stay operator alerts, so a
    trader is not told twice."""
    from django.apps import apps

    if data.get("bot_id") is None:
        return None
    Bot = apps.get_model("bots", "Bot")
    return Bot.objects.filter(pk=data["bot_id"]).values_list("owner_id", flat=True).first()


def preference_rule_for(*, kind: str, data: Mapping[str, Any]) -> AlertRule | None:
    """The owner's delivery rule when they asked to hear about this kind of alert, else None."""
    if kind not in USER_ALERT_KINDS:
        return None
    owner_id = _alert_owner_id(data)
    if owner_id is None:
        return None
    preference = NotificationPreference.objects.filter(user_id=owner_id).select_related("rule").first()
    if preference is None or kind not in preference.kinds or preference.rule is None:
        return None
    return preference.rule if preference.rule.enabled else None
