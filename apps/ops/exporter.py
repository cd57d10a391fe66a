"""Per-process metrics exporters for the processes daphne does not serve (worker, feeds).

Choice (docs/OPERATIONS.md): every process is its own Prometheus target. The web process
is scraped at /metrics (django-prometheus); worker and feeds serve the same registry on
METRICS_PORT. The Celery worker forks task children, so its container sets
PROMETHEUS_MULTIPROC_DIR and its exporter aggregates the children's files.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

logger = logging.getLogger(__name__)
_started_port: int | None = None


def metrics_registry_for_export() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_exporter_start(*, port: int, addr: str = "0.0.0.0") -> int | None:  # noqa: S104 - container port  # nosec B104
    """Start the HTTP exporter once per process; returns the bound port (None if disabled)."""
    global _started_port
    if port <= 0 or _started_port is not None:
        return _started_port
    server, _thread = start_http_server(port, addr=addr, registry=metrics_registry_for_export())
    _started_port = server.server_port
    logger.info("metrics exporter listening on %s:%s", addr, _started_port)
    return _started_port


def _on_worker_init(**kwargs: Any) -> None:
    from django.conf import settings

    metrics_exporter_start(port=settings.METRICS_PORT)


def _on_worker_process_shutdown(pid: int | None = None, **kwargs: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and pid:
        multiprocess.mark_process_dead(pid)


def worker_exporter_connect() -> None:
    from celery import signals

    signals.worker_init.connect(_on_worker_init, weak=False, dispatch_uid="ptp-metrics-exporter")
    signals.worker_process_shutdown.connect(
        _on_worker_process_shutdown, weak=False, dispatch_uid="ptp-metrics-mark-dead"
    )
