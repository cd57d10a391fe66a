"""The Celery app. Tasks are thin wrappers in apps/*/tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task retries, with bounded backoff, when its database connection fails (apps/core/task_retry.py).
app = Celery("paper_trading", task_cls="apps.core.task_retry:DatabaseRetryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
