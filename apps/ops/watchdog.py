"""Turns conditions into alerts: feeds down longer than a threshold, bot errors, kill
switches and refused trades from the audit log, and spikes of server errors.

Run every 30 s by beat (apps.ops.tasks.watchdog_task); every alert carries a dedup key
so a condition that persists is reported once per rule window, not every run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.ops.alerting import alert_raise
from apps.ops.health import HEALTHY_STATUSES
from apps.ops.models import AlertKind, Severity
from apps.ops.probes import feed_probe_factory
from apps.safety.models import AuditEvent

FEED_DOWN_SINCE_KEY = "ops:feed-down-since:{exchange}"
AUDIT_CURSOR_KEY = "ops:watchdog:audit-cursor"
ERRORS_KEY = "ops:errors:{minute}"


def feed_watch(*, now: float | None = None, status_source: Callable[[str], Any] | None = None) -> list[str]:
    """Alert for each feed unhealthy for longer than ALERT_FEED_DOWN_SECONDS."""
    now = time.time() if now is None else now
    alerted = []
    for exchange in settings.HEALTH_FEED_EXCHANGES:
        outcome = feed_probe_factory(exchange, status_source=status_source)()
        key = FEED_DOWN_SINCE_KEY.format(exchange=exchange)
        if outcome.status in HEALTHY_STATUSES:
            cache.delete(key)
            continue
        since = cache.get(key)
        if since is None:
            cache.set(key, now, timeout=None)
            continue
        if now - float(since) >= settings.ALERT_FEED_DOWN_SECONDS:
            alert_raise(
                kind=AlertKind.FEED_DOWN,
                severity=Severity.CRITICAL,
                title=f"{exchange} feed {outcome.status} for {now - float(since):.0f}s",
                message=outcome.detail,
                dedup_key=f"feed_down:{exchange}",
                data={"exchange": exchange, **outcome.data},
            )
            alerted.append(exchange)
    return alerted


def _audit_alert_kind(event: Any) -> tuple[str, str] | None:
    if "kill" in event.action.lower():
        return AlertKind.KILL_SWITCH, Severity.CRITICAL
    if event.category == "bot" and event.result == "error":
        return AlertKind.BOT_ERROR, Severity.WARNING
    if event.category in ("safety", "trade_attempt") and event.result == "refused":
        return AlertKind.SAFETY_VIOLATION, Severity.CRITICAL
    return None


def audit_watch() -> int:
    """Alerts from audit events written since the last run (kill switch, bot errors, refusals)."""
    last_id = cache.get(AUDIT_CURSOR_KEY)
    events = AuditEvent.objects.order_by("id")
    if last_id is None:
        # First run: only the recent past, not the whole history.
        events = events.filter(created_at__gte=timezone.now() - timedelta(minutes=5))
    else:
        events = events.filter(id__gt=last_id)
    raised = 0
    for event in events[:500]:
        last_id = event.id
        kind = _audit_alert_kind(event)
        if kind is None:
            continue
        subject = event.actor_label or event.symbol or str(event.portfolio_id or "")
        alert_raise(
            kind=kind[0],
            severity=kind[1],
            title=f"{event.category}/{event.action} {event.result} {subject}".strip(),
            message=event.message,
            dedup_key=f"{kind[0]}:{event.action}:{subject}",
            data={"audit_event_id": event.id, "portfolio_id": event.portfolio_id, "symbol": event.symbol},
        )
        raised += 1
    if last_id is not None:
        cache.set(AUDIT_CURSOR_KEY, last_id, timeout=None)
    return raised


def server_error_record(**kwargs: Any) -> None:
    """got_request_exception receiver: count unhandled errors per minute in the shared cache.

    Never raises: it runs inside Django's error handling, and a cache that is down (often the
    very error being handled) must not turn the error page into a crash; the dependency
    monitor reports the outage itself."""
    key = ERRORS_KEY.format(minute=int(time.time() // 60))
    with contextlib.suppress(Exception):
        if not cache.add(key, 1, timeout=180):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=180)


def error_rate_watch(*, now: float | None = None) -> int:
    """Alert when the last complete minute had more than ALERT_ERRORS_PER_MINUTE errors."""
    now = time.time() if now is None else now
    minute = int(now // 60) - 1
    count = int(cache.get(ERRORS_KEY.format(minute=minute)) or 0)
    if count > settings.ALERT_ERRORS_PER_MINUTE:
        alert_raise(
            kind=AlertKind.ERROR_RATE,
            severity=Severity.WARNING,
            title=f"{count} server errors in one minute",
            message=f"threshold {settings.ALERT_ERRORS_PER_MINUTE}/min",
            dedup_key="error_rate",
            data={"count": count, "minute_epoch": minute * 60},
        )
    return count


def watchdog_run() -> dict[str, Any]:
    return {"feeds": feed_watch(), "audit_alerts": audit_watch(), "errors_last_minute": error_rate_watch()}
