"""Thin Celery wrappers for operations. Tasks import the services, never the reverse."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.ops.alerting import alert_deliver
from apps.ops.retention import retention_run
from apps.ops.services import heartbeat_record
from apps.ops.watchdog import watchdog_run


@shared_task(name="apps.ops.tasks.heartbeat_task")
def heartbeat_task() -> str:
    """Beat proves it is alive by scheduling this; the worker proves it by running it."""
    return heartbeat_record(source="celery")


@shared_task(name="apps.ops.tasks.echo_task")
def echo_task(value: str) -> str:
    return value


@shared_task(name="apps.ops.tasks.alert_deliver_task")
def alert_deliver_task(notification_id: int) -> str:
    return alert_deliver(notification_id=notification_id).status


@shared_task(name="apps.ops.tasks.watchdog_task")
def watchdog_task() -> dict[str, Any]:
    return watchdog_run()


@shared_task(name="apps.ops.tasks.retention_task")
def retention_task() -> dict[str, int]:
    return retention_run()
