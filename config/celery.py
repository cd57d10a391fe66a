"""The Celery app. Tasks are thin wrappers in apps/*/tasks.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task retries, with bounded backoff, when its database connection fails (apps/core/task_retry.py).
app = Celery("paper_trading", task_cls="apps.core.task_retry:DatabaseRetryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect(weak=False)
def _logging_from_django_settings(**kwargs: Any) -> None:
    """Worker and beat log through settings.LOGGING (JSON lines, request context, the
    per-process files of apps.core.logfiles) instead of Celery replacing the root handlers
    with its own."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
