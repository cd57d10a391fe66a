from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging

from django.apps import AppConfig, apps
from django.conf import settings

logger = logging.getLogger(__name__)


def app_metrics_import_all() -> list[str]:
    """Import every apps.<app>.metrics module so all ptp_ metrics exist in every process."""
    imported = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.metrics"
        if config.name.startswith("apps.") and importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name)
            imported.append(module_name)
    return imported


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"

    def ready(self) -> None:
        from django.core.signals import got_request_exception
        from prometheus_client import REGISTRY

        # Imported here, not at the top: they need the app registry ready (models).
        from apps.ops import celery_metrics, exporter, queue_depth, readiness_metrics
        from apps.ops.alerting import alert_delivery_connect
        from apps.ops.health import registry
        from apps.ops.listeners import listeners_connect
        from apps.ops.probes import default_components_register
        from apps.ops.tasks import alert_deliver_task
        from apps.ops.watchdog import server_error_record

        app_metrics_import_all()
        alert_delivery_connect(alert_deliver_task.delay)
        default_components_register(registry)
        celery_metrics.celery_metrics_connect()
        exporter.worker_exporter_connect()
        got_request_exception.connect(server_error_record, dispatch_uid="ptp-ops-error-rate")
        if settings.PROCESS_ROLE in ("web", "embedded", "test"):
            for collector in (queue_depth.collector, readiness_metrics.collector):
                # ValueError: already registered (ready() twice in one process).
                with contextlib.suppress(ValueError):
                    REGISTRY.register(collector)
        if settings.PROCESS_ROLE == "feeds":
            exporter.metrics_exporter_start(port=settings.METRICS_PORT)
        listeners_connect()
