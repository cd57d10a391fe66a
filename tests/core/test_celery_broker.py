"""Celery tasks executed by a real worker process through the real brokers."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery import Celery

from .celery_worker import celery_worker, worker_env

# Generous: a worker starting on a loaded machine; the result arrives as soon as it runs.
RESULT_TIMEOUT = 180


def _round_trip(*, broker_url: str, backend_url: str, tmp_path: Path) -> None:
    env = worker_env(broker_url=broker_url, backend_url=backend_url,
                     database_url=f"sqlite:///{tmp_path / 'worker.sqlite3'}")  # fmt: skip
    # A separate producer app: the suite's own app stays eager and untouched.
    producer = Celery("producer", broker=broker_url, backend=backend_url, set_as_current=False)
    try:
        with celery_worker(env=env, tmp_path=tmp_path) as worker:
            result = producer.send_task(
                "apps.ops.tasks.echo_task", args=("through-the-broker",), queue=worker.queue, ignore_result=False
            )
            assert result.get(timeout=RESULT_TIMEOUT) == "through-the-broker", worker.output()
    finally:
        producer.close()


@pytest.mark.rabbitmq
def test_task_runs_through_rabbitmq(amqp_url, redis_url, tmp_path):
    _round_trip(broker_url=amqp_url, backend_url=redis_url, tmp_path=tmp_path)


@pytest.mark.redis
def test_task_runs_through_redis_broker(redis_url, tmp_path):
    _round_trip(broker_url=redis_url, backend_url=redis_url, tmp_path=tmp_path)
