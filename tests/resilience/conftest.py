"""Fault-injection fixtures: private Redis and PostgreSQL servers (never the shared ones),
feeds and monitor subprocesses, an alert rule whose notifications the tests can count, and
a webhook receiver for the alerts a subprocess sends."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from tests.conftest import IN_CI
from tests.ops.conftest import WebhookSink

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate: Any, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except Exception:  # a dependency that is down is exactly what these tests wait out
            pass
        time.sleep(step)
    return False


def _need(binary: str) -> str:
    path = shutil.which(binary) or (str(PG_BIN / binary) if (PG_BIN / binary).exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail(f"{binary} not installed")
        pytest.skip(f"{binary} not installed")
    return path


class PrivateRedis:
    """A redis-server of our own on a free port, restartable on the same port."""

    def __init__(self, tmp: Path) -> None:
        self.binary = _need("redis-server")
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_for(lambda: port_open(self.port), 10), "private redis did not start"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
        assert wait_for(lambda: not port_open(self.port), 5)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster (initdb + pg_ctl) in a temp dir, trust auth."""

    def __init__(self, root: Path) -> None:
        self.initdb, self.pg_ctl = _need("initdb"), _need("pg_ctl")
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "pg.log"
        self.sock_dir = root
        run_as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            shutil.chown(root, "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        self.run_as = run_as
        self._run([self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"])

    def _run(self, argv: list[str]) -> None:
        subprocess.run([*self.run_as, *argv], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start"])

    def stop(self, mode: str = "immediate") -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"])


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="ptp-pg-"))
    server = PrivatePostgres(root)
    server.start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def alert_outbox(db: Any, settings: Any) -> Any:
    """One rule that emails every alert; returns a function listing the notifications."""
    from apps.ops.models import AlertNotification, AlertRule

    settings.OPS_ALERT_RULES = []
    AlertRule.objects.create(name="resilience", kind="*", min_severity="info", email_to="ops@example.com")

    def outbox(kind: str | None = None) -> list[AlertNotification]:
        rows = AlertNotification.objects.order_by("id")
        return list(rows.filter(kind=kind) if kind else rows)

    return outbox


def feeds_env(*, sim: Any, redis_url: str = "", prefix: str = "", **extra: str) -> dict[str, str]:
    env = app_env(
        BINANCE_REST_URL=sim.binance_rest_url,
        BINANCE_WS_URL=sim.binance_ws_url,
        KUCOIN_REST_URL=sim.kucoin_rest_url,
        MARKET_BACKFILL_CANDLES="20",
        MARKET_FEED_STALE_S="2",
        MARKET_GAP_GRACE_MS="8000",
        MARKET_REST_MAX_RPS="50",
        MARKET_LEASE_TTL_S="3",
        PROCESS_ROLE="feeds",
        **extra,
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix, CHANNEL_LAYER_PREFIX=prefix)
    return env


def app_env(**extra: str) -> dict[str, str]:
    """A subprocess environment on the test database, no Redis, embedded Celery: add what the
    test is about."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        **extra,
    }
    env.pop("REDIS_URL", None)
    return env


def spawn_feeds(env: dict[str, str], symbols: list[str], log: Path) -> subprocess.Popen:
    args = ["manage.py", "run_feeds", "--market", "live", "--exchange", "binance", "--symbols", ",".join(symbols)]
    return subprocess.Popen(
        [sys.executable, *args, "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "a"),
    )


def redis_cache_settings(url: str, prefix: str) -> Any:
    """override_settings that makes this process's default cache the feeds process's one."""
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": prefix,
            }
        }
    )


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.close()


# The monitor checking five times a second: 3 failed checks (~0.6 s) make an outage.
MONITOR_FAST = {
    "ALERT_DEPENDENCY_CHECK_SECONDS": "0.2",
    "ALERT_DEPENDENCY_FAILURES": "3",
    "ALERT_DEPENDENCY_RECOVERIES": "2",
}


def spawn_monitor(env: dict[str, str], *, webhook_url: str, log: Path) -> subprocess.Popen:
    """manage.py monitor_dependencies with the settings rule "default" posting to webhook_url;
    wait for "monitoring ..." in its log before causing an outage."""
    env = {**env, **MONITOR_FAST, "PROCESS_ROLE": "monitor", "ALERT_WEBHOOK_URL": webhook_url}
    return subprocess.Popen(
        [sys.executable, "manage.py", "monitor_dependencies"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )


class TcpProxy:
    """A loopback TCP forwarder in front of a real server. ``cut()`` closes the listener and
    every connection through it, so clients see the server gone (refused, reset) without
    restarting a server other tests share; ``restore()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() first: close() alone does not wake the thread blocked in accept(),
            # which would keep the port listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            if self._listener is not listener:
                client.close()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
