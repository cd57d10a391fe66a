"""Celery tasks executed by a real worker process through the real brokers."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(*, broker_url: str, backend_url: str, queue: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        PROCESS_ROLE="worker",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=backend_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    )
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue,
           "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _round_trip(*, broker_url: str, backend_url: str, tmp_path: Path) -> None:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = _start_worker(broker_url=broker_url, backend_url=backend_url, queue=queue, tmp_path=tmp_path)
    # A separate producer app: the suite's own app stays eager and untouched.
    producer = Celery("producer", broker=broker_url, backend=backend_url, set_as_current=False)
    try:
        result = producer.send_task(
            "apps.ops.tasks.echo_task", args=("through-the-broker",), queue=queue, ignore_result=False
        )
        assert result.get(timeout=60) == "through-the-broker"
    finally:
        producer.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.mark.rabbitmq
def test_task_runs_through_rabbitmq(amqp_url, redis_url, tmp_path):
    _round_trip(broker_url=amqp_url, backend_url=redis_url, tmp_path=tmp_path)


@pytest.mark.redis
def test_task_runs_through_redis_broker(redis_url, tmp_path):
    _round_trip(broker_url=redis_url, backend_url=redis_url, tmp_path=tmp_path)
