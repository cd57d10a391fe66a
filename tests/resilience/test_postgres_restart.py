"""PostgreSQL restarts (immediate shutdown) while orders are being placed: every order is
placed exactly once, filled once, the ledger balances, and the readiness probe reported the
database down during the outage (the ComponentNotReady alert's input)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, wait_for

pytestmark = [pytest.mark.slow]
N = 120
WORKER = Path(__file__).with_name("pg_orders_worker.py")


def _env(pg) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": pg.url,
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "PROCESS_ROLE": "worker",
        "HEALTH_PROBE_TIMEOUT": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("TEST_DATABASE_NAME", None)
    return env


def _json(out: str) -> dict:
    return json.loads(next(line for line in out.splitlines() if line.startswith("JSON"))[4:])


def test_postgres_restart_during_order_placement_loses_nothing_and_fills_nothing_twice(private_postgres, tmp_path):
    env = _env(private_postgres)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)  # fmt: skip
    out = tmp_path / "worker.out"
    with open(out, "w") as sink:
        worker = subprocess.Popen([sys.executable, str(WORKER), "place", str(N)], cwd=ROOT, env=env, stdout=sink,
                                  stderr=subprocess.STDOUT)  # fmt: skip
    try:
        assert wait_for(lambda: "placed 30\n" in out.read_text(), 90), out.read_text()[-2000:]
        private_postgres.stop("immediate")  # a crash, not a polite shutdown
        time.sleep(1.5)
        private_postgres.start()
        assert worker.wait(180) == 0, out.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()
    summary = _json(out.read_text())
    assert summary["placed"] == N
    assert summary["retries"] >= 1, "the restart did not hit any placement"
    assert summary["probe_during_outage"] == "down"
    assert summary["probe_after"] == "ok"

    verify = subprocess.run([sys.executable, str(WORKER), "verify", str(N)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    result = _json(verify.stdout)
    assert result["missing"] == [] and result["orders"] == N and result["distinct"] == N, result
    assert result["not_one_fill"] == {}, result
    assert result["statuses"] == ["filled"], result
    check = subprocess.run([sys.executable, "manage.py", "ledger_check"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
