"""A daphne process started the way docker/entrypoint.sh starts the web (its exact flags),
on a free loopback port, for tests where the server's own handling of headers and errors
matters (tests/api/test_daphne_stack.py)."""

from __future__ import annotations

import http.client
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import process_stop

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def entrypoint_daphne_args(*, port: int) -> list[str]:
    """The web role's daphne arguments from docker/entrypoint.sh, bound to loopback:port."""
    text = (ROOT / "docker" / "entrypoint.sh").read_text()
    line = next(line for line in text.splitlines() if line.strip().startswith("exec daphne "))
    args = shlex.split(line)[2:]
    args[args.index("-b") + 1] = "127.0.0.1"
    args[args.index("-p") + 1] = str(port)
    return args


class DaphneServer:
    def __init__(self, *, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, *, timeout: float = 90) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", *entrypoint_daphne_args(port=self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_tail()}")
            try:
                self.request("GET", "/health/live")
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"daphne did not answer: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        process_stop(self.proc)
        self.proc = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        source: str = "127.0.0.1",
        chunked: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request from the loopback address ``source`` (127.0.0.0/8 all reach us)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        try:
            conn.request(method, path, body=iter([body]) if chunked else body, headers=headers or {},
                         encode_chunked=chunked)  # fmt: skip
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def daphne_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "TRUSTED_PROXIES")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.api.daphne_settings",
            "PROCESS_ROLE": "web",
            "LOG_LEVEL": "warning",
            "HEALTH_CHECK_FEEDS": "false",
            "SAFETY_VERIFY_KEYS_AT_START": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(overrides)
    return env
