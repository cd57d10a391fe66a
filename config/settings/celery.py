"""Celery: RabbitMQ/Redis broker in production, in-process in embedded mode."""

from __future__ import annotations

from datetime import timedelta

from config.env import env_bool, env_int, env_url

CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", "", schemes=("amqp", "amqps", "redis", "rediss", "memory"))
# Embedded mode: no broker, tasks run in the calling process (same task code) and the
# beat schedule is driven by an in-process thread (apps.core.embedded_beat).
CELERY_EMBEDDED = not CELERY_BROKER_URL or CELERY_BROKER_URL.startswith("memory")
if CELERY_EMBEDDED:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", False)
# Results are only kept when a backend is configured (tasks here are fire-and-forget).
CELERY_RESULT_BACKEND = env_url("CELERY_RESULT_BACKEND", "", schemes=("redis", "rediss", "rpc")) or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# The beat schedule. Apps add entries through CELERY_BEAT_SCHEDULE_EXTRA in their concern
# module; the embedded beat thread and celery beat read the same dict.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "ops-heartbeat": {"task": "apps.ops.tasks.heartbeat_task", "schedule": timedelta(seconds=30)},
}
