"""A real product server for the browser tests: `manage.py serve --market sim` in a subprocess
on a free loopback port, against a throwaway SQLite database, fed by the in-process exchange
simulator; Redis (TEST_REDIS_URL) carries the cache and the channel layer across threads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.processes import process_stop

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "uitrader"
PASSWORD = "ui-browser-pass-1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(*, workdir: Path, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PROCESS_ROLE", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    prefix = f"ptpui{os.getpid()}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": prefix,
            "CHANNEL_LAYER_PREFIX": f"{prefix}:asgi",
            "MARKET_SYMBOLS": "BTCUSDT,ETHUSDT",
            "MARKET_BACKFILL_CANDLES": "150",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str, timeout: float = 120) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def prepare_database(env: dict[str, str]) -> None:
    _manage(env, "migrate", "--noinput", "-v0")
    script = (
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        f"U.objects.filter(username='{USERNAME}').exists() or "
        f"U.objects.create_user(username='{USERNAME}', password='{PASSWORD}')"
    )
    _manage(env, "shell", "-c", script)


class ProductServer:
    def __init__(self, *, workdir: Path, redis_url: str):
        self.workdir = workdir
        self.env = server_env(workdir=workdir, redis_url=redis_url)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--market", "sim", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self._wait(lambda: self._get("/login/") == 200, timeout, "the server to answer")

    def wait_for_market(self, *, timeout: float = 90) -> None:
        """Until both exchanges' feeds stream (their status badges on the public feeds fragment)."""
        marker = b'data-feed-state="simulated"'
        self._wait(lambda: self._body("/ui/feeds/").count(marker) >= 2, timeout, "the market feeds")

    def restart(self, *, timeout: float = 60) -> None:
        """Stop the process and start a new one on the same port and database, as an operator
        restarting the server would: open pages must carry on by themselves."""
        self.stop()
        self.start(timeout=timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        process_stop(self.proc)
        self.proc = None

    def _fetch(self, path: str) -> tuple[int, bytes]:
        try:
            # base_url is always http://127.0.0.1:<port> (built above), never user input.
            with urllib.request.urlopen(self.base_url + path, timeout=2) as response:  # noqa: S310
                return response.status, response.read()
        except Exception:
            return 0, b""

    def _get(self, path: str) -> int:
        return self._fetch(path)[0]

    def _body(self, path: str) -> bytes:
        return self._fetch(path)[1]

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited while waiting for {what}: {self.log_tail()}")
            if ready():
                return
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {what}: {self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
