"""Start the product's real processes for the fan-out benchmark, the soak and the smoke test.

Each process is a real ``manage.py``/``daphne`` subprocess with its own log file in a temp
directory; nothing is imported from the product here, so the measuring process stays
separate from the measured ones. Not a benchmark itself (bench/*.py are; this is a
sub-package so ``make bench`` does not run it).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_VENV_PY = ROOT / ".venv" / "bin" / "python"
PY = str(_VENV_PY) if _VENV_PY.exists() else sys.executable
_DAPHNE = ROOT / ".venv" / "bin" / "daphne"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    """Resident memory from /proc (no psutil needed); None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def http_get(url: str, *, timeout: float = 5.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_json(
    url: str, *, method: str = "GET", body: Any = None, token: str = "", timeout: float = 10.0
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def wait_until(predicate: Any, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(step)
    return False


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(FileNotFoundError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode

    def kill9(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(5)


@dataclass
class Stack:
    """One product installation in a temp dir: SQLite (or DATABASE_URL), optional Redis."""

    tmp: Path
    redis_url: str = ""
    database_url: str = ""
    env_extra: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.database_url = self.database_url or f"sqlite:///{self.tmp / 'db.sqlite3'}"
        self.secret = secrets.token_urlsafe(48)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_SECRET_KEY": self.secret,
            "DATABASE_URL": self.database_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EXCHANGE_SIM_TRIPWIRE_LOG": str(self.tmp / "tripwires.jsonl"),
        }
        env.pop("REDIS_URL", None)
        env.pop("TEST_DATABASE_NAME", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            env["CHANNEL_LAYER_PREFIX"] = f"ptp-bench-{self.tmp.name}"
            env["CACHE_KEY_PREFIX"] = f"ptp-bench-{self.tmp.name}"
        env.update(self.env_extra)
        env.update(extra)
        return env

    def manage(self, *args: str, timeout: float = 180.0, **env: str) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def spawn(self, name: str, argv: list[str], **env: str) -> Proc:
        log = self.tmp / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        popen = subprocess.Popen(argv, cwd=ROOT, env=self.env(**env), stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        proc = Proc(name=name, popen=popen, log=log)
        self.procs.append(proc)
        return proc

    def spawn_manage(self, name: str, *args: str, **env: str) -> Proc:
        return self.spawn(name, [PY, "manage.py", *args], **env)

    def migrate(self) -> None:
        self.manage("migrate", "--noinput")

    def user_token(self, username: str = "bench", *, portfolio: bool = False) -> dict[str, Any]:
        """Create (or reuse) a user; return its id, a JWT access token and, optionally, a fresh
        paper portfolio id."""
        code = (
            "import json\n"
            "from django.contrib.auth import get_user_model\n"
            "from rest_framework_simplejwt.tokens import RefreshToken\n"
            f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
            "out = {'user_id': user.pk, 'token': str(RefreshToken.for_user(user).access_token)}\n"
        )
        if portfolio:
            code += (
                "from apps.portfolio.services import portfolio_create\n"
                "p = portfolio_create(owner=user, name='bench', exchange='binance')\n"
                "out['portfolio_id'] = p.pk\n"
            )
        code += "print('JSON' + json.dumps(out))\n"
        out = self.manage("shell", "-c", code)
        line = next(x for x in out.splitlines() if x.startswith("JSON"))
        return json.loads(line[4:])

    def start_simulator(
        self, *, trade_rate: float = 20.0, symbols: list[str] | None = None, seed: int = 42, clock_speed: float = 1.0
    ) -> Proc:
        args = ["exchange_sim", "--seed", str(seed), "--trade-rate", str(trade_rate), "--clock-speed", str(clock_speed)]
        if symbols:
            args += ["--symbols", *symbols]
        sim = self.spawn_manage("simulator", *args)
        found: dict[str, int] = {}

        def bound() -> bool:
            for line in sim.log.read_text(errors="replace").splitlines():
                if line.startswith("binance="):
                    parts = dict(item.split("=", 1) for item in line.split())
                    found.update({k: int(v.rsplit(":", 1)[1]) for k, v in parts.items()})
                    return True
            if not sim.alive():
                raise RuntimeError(f"simulator died:\n{sim.tail()}")
            return False

        if not wait_until(bound, 60):
            raise RuntimeError(f"simulator did not bind:\n{sim.tail()}")
        self.sim_ports = found
        self.env_extra.update(
            {
                "BINANCE_REST_URL": f"http://127.0.0.1:{found['binance']}",
                "BINANCE_WS_URL": f"ws://127.0.0.1:{found['binance']}/",
                "KUCOIN_REST_URL": f"http://127.0.0.1:{found['kucoin']}",
            }
        )
        return sim

    def start_daphne(self, port: int, name: str = "web", **env: str) -> Proc:
        proc = self.spawn(
            name,
            [str(_DAPHNE), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            PROCESS_ROLE="web",
            **env,
        )
        self.wait_http(proc, f"http://127.0.0.1:{port}/health/live")
        return proc

    def wait_http(self, proc: Proc, url: str, timeout: float = 90.0) -> None:
        def up() -> bool:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died:\n{proc.tail()}")
            return http_get(url, timeout=2)[0] < 500

        if not wait_until(up, timeout, step=0.3):
            raise RuntimeError(f"{proc.name} not answering {url}:\n{proc.tail()}")

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
