"""Thin Celery wrappers for operations."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="apps.ops.tasks.heartbeat_task")
def heartbeat_task() -> str:
    """Beat proves it is alive by scheduling this; the worker proves it by running it."""
    from apps.ops.services import heartbeat_record

    return heartbeat_record(source="celery")


@shared_task(name="apps.ops.tasks.echo_task")
def echo_task(value: str) -> str:
    return value
