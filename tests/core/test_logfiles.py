"""Log files: rotation past LOG_FILE_MAX_MB, and one file per process (never one shared file).

Each test configures logging in a fresh interpreter from the real settings (settings are
read once per process), so what is tested is what LOG_FILE* do in production.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

from apps.core.logfiles import log_file_path

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024

# Logs ~3.5 MB of JSON lines through the root logger of the local settings, then forks two
# children that log (with rotation in their own files) while the parent logs too.
WRITER = """
import logging, os, sys, django
django.setup()
log = logging.getLogger("tests.logfiles")
line = "x" * 1000
for n in range(3600):
    log.warning("parent %05d %s", n, line)
children = []
for c in range(2):
    pid = os.fork()
    if pid == 0:
        for n in range(1200):
            log.warning("child %d %05d %s", c, n, line)
        logging.shutdown()
        os._exit(0)
    children.append(pid)
log.warning("parent after fork")
for pid in children:
    os.waitpid(pid, 0)
logging.shutdown()
print(" ".join(map(str, children)))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        LOG_FILE=str(tmp_path / "logs" / "app.json"),
        LOG_FILE_MAX_MB="1",
        LOG_FILE_BACKUPS="2",
        **extra,
    )
    return env


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_file_log_rotates_past_the_size_limit_and_each_forked_process_has_its_own(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", WRITER], cwd=ROOT, env=_env(tmp_path, PROCESS_ROLE="feeds"),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    logs = tmp_path / "logs"
    main = logs / "app.feeds.json"
    # 3.5 MB through a 1 MB file with 2 backups: the current file and exactly .1 and .2.
    assert sorted(p.name for p in logs.glob("app.feeds.json*")) == [
        "app.feeds.json",
        "app.feeds.json.1",
        "app.feeds.json.2",
    ]
    for path in logs.glob("app.feeds.json*"):
        assert path.stat().st_size <= MB
    assert _lines(main)[-1]["message"] == "parent after fork"
    assert all(line["message"].startswith("parent") for p in logs.glob("app.feeds.json*") for line in _lines(p))
    for c, pid in enumerate(int(p) for p in result.stdout.split()):
        own = log_file_path(logs / "app.json", role="feeds", pid=pid)
        files = sorted(logs.glob(own.name + "*"))
        assert [p.name for p in files] == [own.name, own.name + ".1"], "1.2 MB: rotated once"
        records = [line for p in files for line in _lines(p)]
        assert {line["process"] for line in records} == {pid}
        assert all(line["message"].startswith(f"child {c} ") for line in records)
        assert records[0]["role"] == "feeds"


@pytest.mark.redis
def test_celery_prefork_children_write_their_own_files(redis_url, tmp_path):
    queue = f"test-logs-{uuid.uuid4().hex[:8]}"
    env = _env(tmp_path, PROCESS_ROLE="worker", CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url)
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(48)  # the worker's safety check refuses the dev key
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "2",
           "-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    worker = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    producer = Celery("producer", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        results = [
            producer.send_task("apps.ops.tasks.echo_task", args=(f"m{n}",), queue=queue, ignore_result=False)
            for n in range(8)
        ]
        assert [r.get(timeout=60) for r in results] == [f"m{n}" for n in range(8)]
    finally:
        producer.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    logs = tmp_path / "logs"
    main = logs / "app.worker.json"
    assert main.exists() and {line["process"] for line in _lines(main)} == {worker.pid}
    children = list(logs.glob("app.worker.*.json"))
    assert children, sorted(p.name for p in logs.iterdir())
    succeeded = []
    for path in children:
        pid = int(path.name.split(".")[2])
        records = _lines(path)
        assert {line["process"] for line in records} == {pid} and pid != worker.pid
        succeeded += [line for line in records if "succeeded" in line["message"]]
    assert len(succeeded) == 8
