"""The base class of every Celery task (config/celery.py): a task whose database connection
fails is retried on a fresh connection instead of being lost.

Why: a Postgres restart, a killed backend or an empty connection pool raise
OperationalError/InterfaceError from whatever query the task was at; before this the run
failed and was acknowledged, so its work (e.g. a closed candle's bot evaluations) was never
done. Tasks are written to be delivered twice already (acks_late), so a retry is safe.

The backoff is bounded: 2 s doubling to at most 60 s apart (full jitter), 5 retries, then
the task fails with the database error as before.
"""

from __future__ import annotations

import contextlib
from typing import Any

from celery import Task
from django.db import DatabaseError, InterfaceError, OperationalError, connections

DATABASE_CONNECTION_ERRORS = (OperationalError, InterfaceError)


def connections_broken_close() -> None:
    """Close this thread's connections so the retry opens new ones (a connection that
    failed stays failed). One inside a transaction belongs to the caller: left alone."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            with contextlib.suppress(DatabaseError):
                conn.close()


class DatabaseRetryTask(Task):
    autoretry_for = DATABASE_CONNECTION_ERRORS
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 5

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        connections_broken_close()
        return super().retry(*args, **kwargs)
