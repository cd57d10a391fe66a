"""The dependency monitor: Postgres, Redis and the Celery broker probed in a loop by a
process of its own (``python manage.py monitor_dependencies``). An outage becomes a
``dependency_down`` alert, its end a resolution with the same kind and severity (so every
rule that got the alert gets its end too).

Why not the beat-driven watchdog: beat reads its schedule from Postgres, the task needs the
broker to reach a worker and the watchdog keeps its state in Redis, so it is blind to the
very outages watched here. This loop needs none of them: its state (``OutageTracker``) is
in memory and it delivers from its own process, never through the broker.

Delivery: with the database up, ``alert_raise(inline=True)``, so rules, de-duplication, the
rate limit and the delivery log work as for every alert. With the database down there is
nowhere to read rules or store rows: the alert goes straight to the channels of the rules
read last time the database answered (else the settings' rules; SMTP and webhooks need no
database) and the rows are written once it is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import Error as DatabaseLibraryError
from django.db import connection

from apps.ops.alerting import (
    alert_notifications_record,
    alert_raise,
    alert_rules_from_settings,
    alert_rules_matching,
    alert_send_direct,
)
from apps.ops.health import Component, ProbeOutcome, component_run
from apps.ops.models import AlertKind, AlertNotification, AlertRule, Severity
from apps.ops.outages import FIRING, OutageEvent, OutageTracker
from apps.ops.probes import celery_broker_probe, database_connect_probe, redis_probe, redis_urls

logger = logging.getLogger(__name__)
DATABASE = "postgres"
RULES_REFRESH_SECONDS = 60.0
# Sent-but-unrecorded notifications kept while Postgres is down; only transitions add to
# it, so this bounds a long flapping outage, not a normal one.
UNRECORDED_MAX = 500


@dataclass
class DependencyMonitor:
    probes: dict[str, Callable[[], ProbeOutcome]]
    tracker: OutageTracker
    rules: list[AlertRule] | None = None  # where dependency alerts went, as last read from the database
    rules_read_at: float = 0.0
    unrecorded: list[AlertNotification] = field(default_factory=list)


def dependency_probes() -> dict[str, Callable[[], ProbeOutcome]]:
    """The external services this deployment uses (none in embedded mode)."""
    probes: dict[str, Callable[[], ProbeOutcome]] = {}
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        probes[DATABASE] = database_connect_probe
    if redis_urls():
        probes["redis"] = redis_probe
    if not settings.CELERY_EMBEDDED:
        probes["broker"] = celery_broker_probe
    return probes


def dependency_monitor_create(*, probes: dict[str, Callable[[], ProbeOutcome]] | None = None) -> DependencyMonitor:
    return DependencyMonitor(
        probes=dependency_probes() if probes is None else probes,
        tracker=OutageTracker(
            fail_after=settings.ALERT_DEPENDENCY_FAILURES, recover_after=settings.ALERT_DEPENDENCY_RECOVERIES
        ),
    )


def dependency_monitor_check(*, monitor: DependencyMonitor, now: float | None = None) -> list[OutageEvent]:
    """One round: probe every dependency, raise or resolve what changed. Returns the changes."""
    now = time.time() if now is None else now
    events = []
    database_up = True  # SQLite (no "postgres" probe) is a file: it is there
    for name, probe in monitor.probes.items():
        result = component_run(Component(name=name, probe=probe))
        if name == DATABASE:
            database_up = result.healthy
        event = monitor.tracker.observe(dependency=name, healthy=result.healthy, at=now, detail=result.detail)
        if event is not None:
            events.append(event)
    if database_up:
        database_up = _database_catch_up(monitor=monitor, now=now)
    for event in events:
        _dispatch(monitor=monitor, event=event, database_up=database_up)
    return events


def _database_catch_up(*, monitor: DependencyMonitor, now: float) -> bool:
    """Store what was sent while the database was down; re-read the rules now and then."""
    try:
        if monitor.unrecorded:
            stored = alert_notifications_record(notifications=monitor.unrecorded)
            logger.info("recorded %s dependency alerts sent while the database was down", stored)
            monitor.unrecorded = []
        if monitor.rules is None or now - monitor.rules_read_at >= RULES_REFRESH_SECONDS:
            monitor.rules = alert_rules_matching(kind=AlertKind.DEPENDENCY_DOWN, severity=Severity.CRITICAL)
            monitor.rules_read_at = now
    except DatabaseLibraryError as exc:
        logger.warning("database failed after its probe passed: %s", exc)
        _connection_drop()
        return False
    return True


def _connection_drop() -> None:
    # A broken connection stays broken for this thread; the next round reconnects.
    if not connection.in_atomic_block:
        connection.close()


def _alert(event: OutageEvent) -> dict[str, Any]:
    def iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz=UTC).isoformat()

    back = f"{event.dependency} answers again; it was down since {iso(event.since)}"
    return {
        "kind": AlertKind.DEPENDENCY_DOWN,
        "severity": Severity.CRITICAL,
        "title": event.title,
        "message": event.detail if event.state == FIRING else back,
        "dedup_key": event.dedup_key,
        "data": {
            "dependency": event.dependency,
            "state": event.state,
            "since": iso(event.since),
            "at": iso(event.at),
            "outage_seconds": round(event.duration_seconds, 1),
            "failed_checks": event.failures,
            "detail": event.detail,
        },
    }


def _dispatch(*, monitor: DependencyMonitor, event: OutageEvent, database_up: bool) -> None:
    alert = _alert(event)
    if database_up:
        try:
            alert_raise(**alert, inline=True)
            return
        except DatabaseLibraryError as exc:
            logger.warning("database failed while raising %s; sending without it: %s", event.dedup_key, exc)
            _connection_drop()
    rules = monitor.rules
    if rules is None:
        rules = alert_rules_from_settings(kind=alert["kind"], severity=alert["severity"])
    sent = alert_send_direct(rules=rules, **alert)
    monitor.unrecorded = (monitor.unrecorded + sent)[-UNRECORDED_MAX:]
