"""The web process's PostgreSQL connections stay within its pool (issue 18, finding 1).

A real daphne with the production settings on the test database serves 1,000 requests,
sequential and concurrent; a sampler counts the web's connections in pg_stat_activity
(by its application_name on this test database) all along. Before the pool, every
request thread kept a connection of its own (30 requests left 30 idle connections)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from config.database import application_name, database_pool_options

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
POOL_SIZE = 4
SEQUENTIAL, CONCURRENT, CONCURRENCY = 300, 700, 16
PASSWORD = "pool-test-password-0"  # a throwaway test user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _web_connections(url: str) -> list[str]:
    """The states of the web role's connections to this test database."""
    with psycopg.connect(url, application_name="paperdesk-pool-test-sampler") as conn:
        rows = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [application_name("web")],
        ).fetchall()
    return [row[0] for row in rows]


class Sampler(threading.Thread):
    """Counts the web's connections until stopped; keeps the highest count seen."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.peak, self.samples = url, 0, 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            self.peak = max(self.peak, len(_web_connections(self.url)))
            self.samples += 1


def _daphne_start(*, url: str, redis_url: str, port: int, log: Path) -> subprocess.Popen:
    prefix = f"ptppool{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "TEST_DATABASE_NAME")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "PROCESS_ROLE": "web",
        "DATABASE_URL": url,
        "DATABASE_POOL_SIZE": str(POOL_SIZE),
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "CHANNEL_LAYER_PREFIX": f"{prefix}:asgi",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    with open(log, "w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_until_serving(base: str, proc: subprocess.Popen, log: Path) -> None:
    done = threading.Event()
    while not done.wait(0.2):
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            requests.get(f"{base}/health/live", timeout=5)
            return
        except requests.ConnectionError:
            continue


def _token(base: str, username: str) -> str:
    response = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text[:500]
    return response.json()["access"]


def test_pool_options_per_role(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_SIZE", raising=False)
    assert database_pool_options("web")["pool"]["max_size"] == 10
    assert database_pool_options("worker")["pool"]["max_size"] == 2
    assert "pool" not in database_pool_options("test")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    assert database_pool_options("feeds")["pool"]["max_size"] == 3


def test_daphne_keeps_its_connections_within_the_pool(transactional_db, django_user_model, redis_url, tmp_path):
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("the pool is PostgreSQL's")
    username = f"pool{secrets.token_hex(4)}"
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    django_user_model.objects.create(username=username, password=hashed)
    url, port, log = _database_url(), _free_port(), tmp_path / "daphne.log"
    base = f"http://127.0.0.1:{port}"
    proc = _daphne_start(url=url, redis_url=redis_url, port=port, log=log)
    sampler = Sampler(url)
    try:
        _wait_until_serving(base, proc, log)
        headers = {"Authorization": f"Bearer {_token(base, username)}"}
        sampler.start()
        with requests.Session() as session:
            statuses = [session.get(f"{base}/api/v1/portfolios/", headers=headers, timeout=60).status_code
                        for _ in range(SEQUENTIAL)]  # fmt: skip

        def one(_: int) -> int:
            return requests.get(f"{base}/api/v1/portfolios/", headers=headers, timeout=120).status_code

        with ThreadPoolExecutor(CONCURRENCY) as executor:
            statuses += list(executor.map(one, range(CONCURRENT)))
        sampler.stopping.set()
        sampler.join(30)
        assert statuses.count(200) == SEQUENTIAL + CONCURRENT, sorted(set(statuses))
        assert sampler.samples > 0
        assert 1 <= sampler.peak <= POOL_SIZE, (sampler.peak, log.read_text()[-3000:])
        # Returned: nothing is still running or left in a transaction after the last response.
        after = _web_connections(url)
        assert len(after) <= POOL_SIZE
        assert set(after) <= {"idle"}, after
    finally:
        sampler.stopping.set()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
