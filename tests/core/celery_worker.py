"""A real Celery worker process for tests, safe beside other workers on the same broker.

Each worker gets a node name and a queue of its own: two workers with the same node name
on one RabbitMQ collide on the node's exclusive pidbox queue (RESOURCE_LOCKED), which made
these tests fail whenever another run was going on. Output goes to a file (a pipe nobody
reads can fill and stall the worker) that failures quote.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    node: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def worker_env(*, broker_url: str, backend_url: str, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TEST_DATABASE_NAME")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        PROCESS_ROLE="worker",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=backend_url,
        DATABASE_URL=database_url,
        **extra,
    )
    return env


@contextmanager
def celery_worker(*, env: dict[str, str], tmp_path: Path, loglevel: str = "WARNING") -> Iterator[Worker]:
    tag = uuid.uuid4().hex[:10]
    queue, node, log = f"test-{tag}", f"test-{tag}@%h", tmp_path / f"worker-{tag}.log"
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", node, "-Q", queue,
           "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", loglevel]  # fmt: skip
    with open(log, "wb") as sink:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield Worker(process=process, queue=queue, node=node, log=log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
