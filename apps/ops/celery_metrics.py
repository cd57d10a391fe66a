"""Celery task counts, durations and failures through Celery's signals.

The signals fire in whichever process runs the task: a prefork child in the worker (so the
worker uses prometheus_client's multiprocess mode, see apps.ops.exporter) or the calling
process in embedded mode (eager tasks).
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals

from apps.ops.metrics import CELERY_TASK_DURATION, CELERY_TASK_FAILURES, CELERY_TASKS

_started: dict[str, float] = {}
_connected = False


def _task_name(task: Any, sender: Any = None) -> str:
    return getattr(task, "name", None) or getattr(sender, "name", None) or "unknown"


def _on_prerun(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


def _on_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any) -> None:
    name = _task_name(task)
    started = _started.pop(task_id, None) if task_id else None
    if started is not None:
        CELERY_TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)
    CELERY_TASKS.labels(task=name, state=state or "UNKNOWN").inc()


def _on_failure(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    CELERY_TASK_FAILURES.labels(task=_task_name(sender), exception=type(exception).__name__).inc()


def celery_metrics_connect() -> None:
    """Idempotent: connected once per process from OpsConfig.ready()."""
    global _connected
    if _connected:
        return
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="ptp-metrics-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="ptp-metrics-postrun")
    signals.task_failure.connect(_on_failure, weak=False, dispatch_uid="ptp-metrics-failure")
    _connected = True
