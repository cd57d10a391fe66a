"""PostgreSQL restarts (immediate shutdown) while orders are being placed: every order is
placed exactly once, filled once, the ledger balances, the readiness probe reported the
database down during the outage (the ComponentNotReady alert's input), and the monitor
process raised the application alert during the outage (by webhook: no database needed)
and its resolution after, with both rows in the delivery log once Postgres was back."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from .conftest import ROOT, spawn_monitor, wait_for

pytestmark = [pytest.mark.slow]
N = 120
WORKER = Path(__file__).with_name("pg_orders_worker.py")


def _env(pg) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": pg.url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "PROCESS_ROLE": "worker",
        # A placement waits this long for a pooled connection before it fails and probes
        # readiness: shorter than the outage, so the probe runs while Postgres is down.
        "DATABASE_POOL_TIMEOUT": "1",
        "HEALTH_PROBE_TIMEOUT": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("TEST_DATABASE_NAME", None)
    return env


def _alert_rows(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT channel, data->>'state', status FROM ops_alertnotification"
            " WHERE kind = 'dependency_down' ORDER BY created_at, id"
        ).fetchall()
    return [tuple(row) for row in rows]


def _json(out: str) -> dict:
    return json.loads(next(line for line in out.splitlines() if line.startswith("JSON"))[4:])


def test_postgres_restart_during_order_placement_loses_nothing_and_fills_nothing_twice(
    private_postgres, webhook_sink, tmp_path
):
    env = _env(private_postgres)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)  # fmt: skip
    out, monitor_log = tmp_path / "worker.out", tmp_path / "monitor.log"
    monitor, worker = spawn_monitor(env, webhook_url=webhook_sink.url, log=monitor_log), None
    try:
        assert wait_for(lambda: "monitoring postgres" in monitor_log.read_text(), 60), monitor_log.read_text()
        with open(out, "w") as sink:
            worker = subprocess.Popen([sys.executable, str(WORKER), "place", str(N)], cwd=ROOT, env=env,
                                      stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
        assert wait_for(lambda: "placed 30\n" in out.read_text(), 90), out.read_text()[-2000:]
        private_postgres.stop("immediate")  # a crash, not a polite shutdown
        time.sleep(1.5)
        # Raised while Postgres is still down: sent without the database.
        assert wait_for(lambda: webhook_sink.states("postgres") == ["firing"], 30), monitor_log.read_text()[-3000:]
        private_postgres.start()
        assert worker.wait(180) == 0, out.read_text()[-3000:]
        assert wait_for(lambda: webhook_sink.states("postgres") == ["firing", "resolved"], 30), monitor_log.read_text()
        # The alert sent during the outage is in the delivery log now, before its resolution.
        expected = [("webhook", "firing", "sent"), ("webhook", "resolved", "sent")]
        assert wait_for(lambda: _alert_rows(private_postgres.url) == expected, 30), _alert_rows(private_postgres.url)
    finally:
        for proc in (worker, monitor):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    firing = webhook_sink.received[0]
    assert firing["severity"] == "critical" and firing["id"] is None  # no row could be written then
    assert webhook_sink.received[1]["data"]["outage_seconds"] > 0
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
