"""Application alerting: raise an alert; rules decide who gets it by email and webhook.

``alert_raise`` is the one entry point (safety, feeds, bots, the watchdog). Per rule and
channel an alert is dropped when the same dedup key was sent within the rule's window
(de-duplication) or when the rule already sent ``max_per_hour`` in the last hour (rate
limit). Survivors are stored and delivered after the caller's transaction commits: by a
Celery task, or in the calling process with ``inline=True`` (the dependency monitor, which
must not rely on the broker it may be reporting down). This module does not import the
task (the task imports it): ``OpsConfig.ready`` wires the task in with
``alert_delivery_connect(alert_deliver_task.delay)``.

Without a database there are no rules to read and nowhere to store a row: the dependency
monitor then sends through the rules it read earlier (``alert_rules_matching``, else the
settings' rules) with ``alert_send_direct`` and stores what it sent later with
``alert_notifications_record``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from apps.ops import webhook_delivery
from apps.ops.metrics import ALERTS
from apps.ops.models import SEVERITY_RANK, AlertKind, AlertNotification, AlertRule, Severity
from apps.ops.preferences import preference_rule_for

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-PTP-Signature"
TIMESTAMP_HEADER = "X-PTP-Timestamp"
_LIVE = (AlertNotification.Status.PENDING, AlertNotification.Status.SENT)


@dataclass(frozen=True)
class AlertOutcome:
    rule: str
    channel: str
    status: str
    notification_id: int | None = None


def alert_rules_sync_from_settings() -> None:
    for spec in settings.OPS_ALERT_RULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults.setdefault("dedup_seconds", settings.ALERT_DEDUP_SECONDS)
        defaults.setdefault("max_per_hour", settings.ALERT_MAX_PER_HOUR)
        AlertRule.objects.update_or_create(
            name=spec["name"], defaults={**defaults, "source": AlertRule.Source.SETTINGS}
        )


def _matching_rules(*, kind: str, severity: str, data: dict[str, Any]) -> list[AlertRule]:
    rank = SEVERITY_RANK[Severity(severity)]
    # A trader's own rule (source "user") only ever gets alerts about their own bots.
    rules = AlertRule.objects.filter(enabled=True, kind__in=[kind, AlertKind.ANY]).exclude(source=AlertRule.Source.USER)
    matched = [rule for rule in rules if SEVERITY_RANK[Severity(rule.min_severity)] <= rank]
    personal = preference_rule_for(kind=kind, data=data)
    return matched + ([personal] if personal is not None else [])


def _channels(rule: AlertRule) -> list[str]:
    channels: list[str] = []
    if rule.email_recipients():
        channels.append(AlertNotification.Channel.EMAIL)
    if rule.webhook_url:
        channels.append(AlertNotification.Channel.WEBHOOK)
    if rule.page:
        channels.append(AlertNotification.Channel.PAGE)
    return channels


def _admission(*, rule: AlertRule, channel: str, dedup_key: str) -> str:
    now = timezone.now()
    sent = AlertNotification.objects.filter(rule=rule, channel=channel, status__in=_LIVE)
    if (
        rule.dedup_seconds
        and sent.filter(dedup_key=dedup_key, created_at__gte=now - timedelta(seconds=rule.dedup_seconds)).exists()
    ):
        return AlertNotification.Status.DUPLICATE
    if sent.filter(created_at__gte=now - timedelta(hours=1)).count() >= rule.max_per_hour:
        return AlertNotification.Status.RATE_LIMITED
    return AlertNotification.Status.PENDING


def _admit(*, rule: AlertRule, channel: str, fields: dict[str, Any], deliver: Callable[[int], Any]) -> AlertOutcome:
    # The row lock on the rule serialises concurrent raisers, so two processes cannot both
    # pass the de-duplication check for the same key.
    AlertRule.objects.select_for_update().filter(pk=rule.pk).first()
    status = _admission(rule=rule, channel=channel, dedup_key=fields["dedup_key"])
    ALERTS.labels(kind=fields["kind"], status=status).inc()
    if status != AlertNotification.Status.PENDING:
        return AlertOutcome(rule=rule.name, channel=channel, status=status)
    if channel == AlertNotification.Channel.PAGE:  # listed on the status page: stored is delivered
        notification = AlertNotification.objects.create(
            rule=rule, channel=channel, status=AlertNotification.Status.SENT, sent_at=timezone.now(), **fields
        )
        return AlertOutcome(
            rule=rule.name, channel=channel, status=notification.status, notification_id=notification.pk
        )
    notification = AlertNotification.objects.create(rule=rule, channel=channel, **fields)
    transaction.on_commit(lambda: deliver(notification.pk))
    return AlertOutcome(rule=rule.name, channel=channel, status=status, notification_id=notification.pk)


# How a stored alert leaves the process when it is not delivered inline: connected once per
# process by the composition root (OpsConfig.ready: the Celery task's ``delay``).
_delivery: dict[str, Callable[[int], object]] = {}


def alert_delivery_connect(enqueue: Callable[[int], object]) -> None:
    """Queue every stored alert with ``enqueue(notification_id)`` after its commit."""
    _delivery["enqueue"] = enqueue


def _deliver_enqueue() -> Callable[[int], object]:
    try:
        return _delivery["enqueue"]
    except KeyError:
        raise ImproperlyConfigured("alert delivery is not connected: OpsConfig.ready connects it") from None


def _deliver_inline(notification_id: int) -> None:
    try:
        alert_deliver(notification_id=notification_id)
    except Exception:
        # Runs after commit: the alert may be out already (the status update failed), and a
        # raise here would make the caller think the alert was lost and send it again.
        logger.exception("alert %s: inline delivery failed", notification_id)


def _alert_fields(
    *, kind: str, severity: str, title: str, message: str, dedup_key: str, data: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "severity": Severity(severity),
        "dedup_key": (dedup_key or f"{kind}:{title}")[:200],
        "title": title[:200],
        "message": message,
        "data": json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
    }


def alert_raise(
    *,
    kind: str,
    severity: str,
    title: str,
    message: str = "",
    dedup_key: str = "",
    data: dict[str, Any] | None = None,
    inline: bool = False,
) -> list[AlertOutcome]:
    """Route one alert to every matching rule's channels (see the module docstring)."""
    alert_rules_sync_from_settings()
    fields = _alert_fields(kind=kind, severity=severity, title=title, message=message, dedup_key=dedup_key, data=data)
    deliver = _deliver_inline if inline else _deliver_enqueue()
    outcomes = []
    with transaction.atomic():
        for rule in _matching_rules(kind=kind, severity=severity, data=fields["data"]):
            for channel in _channels(rule):
                outcomes.append(_admit(rule=rule, channel=channel, fields=fields, deliver=deliver))
    logger.warning("alert %s/%s %s: %s", kind, severity, fields["dedup_key"], [o.status for o in outcomes])
    return outcomes


def alert_payload(notification: AlertNotification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "severity": notification.severity,
        "title": notification.title,
        "message": notification.message,
        "dedup_key": notification.dedup_key,
        "data": notification.data,
        "rule": notification.rule.name,
        "created_at": notification.created_at.isoformat(),
    }


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; receivers recompute and compare."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_signing_secret(rule: AlertRule) -> str:
    """A trader's webhook is signed with their own secret; the operator's ALERT_WEBHOOK_SECRET
    signs only operator rules (admin and settings)."""
    if rule.source == AlertRule.Source.USER:
        return rule.signing_secret
    return settings.ALERT_WEBHOOK_SECRET


def _send_webhook(notification: AlertNotification) -> None:
    body = json.dumps(alert_payload(notification), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp}
    secret = webhook_signing_secret(notification.rule)
    if secret:
        headers[SIGNATURE_HEADER] = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    status = webhook_delivery.webhook_post(
        url=notification.rule.webhook_url,
        body=body,
        headers=headers,
        timeout=settings.ALERT_WEBHOOK_TIMEOUT,
        public_only=notification.rule.source == AlertRule.Source.USER,
        resolver=webhook_delivery.webhook_resolver,
        ssl_context=webhook_delivery.webhook_ssl_context,
    )
    if status >= 300:  # a redirect is a failure: it is never followed
        raise webhook_delivery.WebhookRefused(f"webhook answered {status}", code="webhook_failed")


def _send_email(notification: AlertNotification) -> None:
    payload = alert_payload(notification)
    body = "\n".join(
        [
            notification.message or notification.title,
            "",
            f"kind: {notification.kind}",
            f"severity: {notification.severity}",
            f"dedup key: {notification.dedup_key}",
            f"raised at: {payload['created_at']}",
            f"data: {json.dumps(notification.data, sort_keys=True)}",
        ]
    )
    send_mail(
        subject=f"[PTP {notification.severity.upper()}] {notification.title}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=notification.rule.email_recipients(),
    )


def _show_on_page(notification: AlertNotification) -> None:
    """The status page lists stored notifications: nothing leaves the process."""


def _send(notification: AlertNotification) -> None:
    """Send by the notification's channel and set its status (the caller saves it, if it can)."""
    senders = {AlertNotification.Channel.EMAIL: _send_email, AlertNotification.Channel.PAGE: _show_on_page}
    sender = senders.get(notification.channel, _send_webhook)
    notification.attempts += 1
    try:
        sender(notification)
    except Exception as exc:
        notification.status = AlertNotification.Status.FAILED
        notification.error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.error("alert %s delivery by %s failed: %s", notification.pk, notification.channel, exc)
    else:
        notification.status = AlertNotification.Status.SENT
        notification.sent_at = timezone.now()
        notification.error = ""


def alert_deliver(*, notification_id: int) -> AlertNotification:
    notification = AlertNotification.objects.select_related("rule").get(pk=notification_id)
    if notification.status == AlertNotification.Status.SENT:
        return notification  # a redelivered task must not send twice
    _send(notification)
    notification.save(update_fields=["status", "error", "attempts", "sent_at"])
    return notification


# ---- without a database (the dependency monitor while Postgres is down) ----------------


def alert_rules_matching(*, kind: str, severity: str) -> list[AlertRule]:
    """The operator rules an alert of this kind and severity goes to (reads the database)."""
    alert_rules_sync_from_settings()
    return [rule for rule in _matching_rules(kind=kind, severity=severity, data={}) if _channels(rule)]


def alert_rules_from_settings(*, kind: str, severity: str) -> list[AlertRule]:
    """The same from settings alone, unsaved: what a process that never reached the database
    knows about where alerts go."""
    rank = SEVERITY_RANK[Severity(severity)]
    rules = []
    for spec in settings.OPS_ALERT_RULES:
        rule = AlertRule(**{**spec, "source": AlertRule.Source.SETTINGS})
        if (
            rule.kind in (kind, AlertKind.ANY)
            and SEVERITY_RANK[Severity(rule.min_severity)] <= rank
            and _channels(rule)
        ):
            rules.append(rule)
    return rules


def alert_send_direct(
    *,
    rules: list[AlertRule],
    kind: str,
    severity: str,
    title: str,
    message: str = "",
    dedup_key: str = "",
    data: dict[str, Any] | None = None,
) -> list[AlertNotification]:
    """Send now to every channel of ``rules`` without touching the database; returns the
    unsaved notifications (sent or failed) for ``alert_notifications_record``. No de-duplication
    or rate limit here: the caller raises once per outage."""
    fields = _alert_fields(kind=kind, severity=severity, title=title, message=message, dedup_key=dedup_key, data=data)
    notifications = []
    for rule in rules:
        for channel in _channels(rule):
            notification = AlertNotification(rule=rule, channel=channel, created_at=timezone.now(), **fields)
            ALERTS.labels(kind=kind, status=AlertNotification.Status.PENDING).inc()
            _send(notification)
            notifications.append(notification)
    statuses = [n.status for n in notifications]
    logger.warning("alert %s/%s %s sent without the database: %s", kind, severity, fields["dedup_key"], statuses)
    return notifications


# What a notification sent without the database carries into its stored row: every column
# but the id, the rule (found again by name) and created_at (auto_now_add, put back below).
_RECORDED_FIELDS = tuple(
    field.name for field in AlertNotification._meta.concrete_fields if field.name not in ("id", "rule", "created_at")
)


def alert_notifications_record(*, notifications: list[AlertNotification]) -> int:
    """Store notifications sent by ``alert_send_direct``, dated when they were sent. Rules
    are found again by name (a rule deleted meanwhile drops its rows). Raises the database's
    error while it is still down; ``notifications`` are left untouched for the next try."""
    alert_rules_sync_from_settings()
    by_name = {rule.name: rule for rule in AlertRule.objects.filter(name__in={n.rule.name for n in notifications})}
    stored = 0
    with transaction.atomic():
        for notification in notifications:
            rule = by_name.get(notification.rule.name)
            if rule is None:
                logger.warning("alert rule %s is gone: %s not stored", notification.rule.name, notification.dedup_key)
                continue
            row = AlertNotification.objects.create(
                rule=rule, **{name: getattr(notification, name) for name in _RECORDED_FIELDS}
            )
            # created_at is auto_now_add: put back when the alert really went out.
            AlertNotification.objects.filter(pk=row.pk).update(created_at=notification.created_at)
            stored += 1
    return stored
