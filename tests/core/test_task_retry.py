"""Tasks that lose their database connection retry on a new one (issue 18, finding 1: two
bots_candle_closed_task runs were lost when Postgres refused connections).

The connection is killed for real: pg_terminate_backend from a second session."""

from __future__ import annotations

import psycopg
import pytest
from celery import signals
from django.db import OperationalError, connection

from apps.bots.tasks import bots_candle_closed_task
from apps.core.task_retry import DatabaseRetryTask
from config.celery import app

pytestmark = [pytest.mark.postgres]


def _admin_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _kill_this_threads_connection() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        [(killed,)] = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchall()
    assert killed


@pytest.fixture
def retries() -> list[str]:
    seen: list[str] = []

    def record(sender=None, reason=None, **_: object) -> None:
        seen.append(f"{sender.name}: {type(getattr(reason, 'exc', reason)).__name__}")

    signals.task_retry.connect(record, weak=False)
    yield seen
    signals.task_retry.disconnect(record)


@app.task(name="tests.core.test_task_retry.database_gone_task")
def database_gone_task() -> None:
    raise OperationalError("server closed the connection unexpectedly")


def test_every_task_has_the_retrying_base():
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if name.startswith("apps.")]
    assert ours and all(isinstance(task, DatabaseRetryTask) for task in ours)
    assert isinstance(bots_candle_closed_task, DatabaseRetryTask)


def test_candle_closed_task_retries_after_its_connection_is_killed(transactional_db, retries):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    _kill_this_threads_connection()
    # throw=False: the worker's behaviour (eager propagation would raise celery's Retry itself).
    result = bots_candle_closed_task.apply(args=("binance", "BTCUSDT", "1m", 1_700_000_000_000), throw=False)
    assert result.successful(), result.traceback
    assert result.get() == 0  # no running bot: nothing to fan out, but the run was not lost
    assert retries == ["apps.bots.tasks.bots_candle_closed_task: OperationalError"]


@pytest.fixture
def worker_like_eager():
    """Eager retries re-apply with the configured propagation: off, as on a worker."""
    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_retries_are_bounded_then_the_error_is_raised(retries, worker_like_eager):
    result = database_gone_task.apply()
    assert result.failed() and isinstance(result.result, OperationalError)
    assert len(retries) == DatabaseRetryTask.max_retries
    assert DatabaseRetryTask.retry_backoff_max == 60
