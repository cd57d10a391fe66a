"""The monitor sees Postgres refusing new connections (issue 18, finding 1).

Exhaustion is reproduced without touching the shared server's max_connections: the probe
connects as a role of its own with CONNECTION LIMIT 1 and the test holds that one
connection. This test's own connection (like the monitor's pooled ones) keeps working
throughout, which is why the probe must open a connection of its own each time."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from apps.ops.monitor import dependency_monitor_check, dependency_monitor_create, dependency_probes
from apps.ops.outages import FIRING, RESOLVED
from apps.ops.probes import database_connect_probe

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
LIMIT = 1
_ADMIN_URL: dict[str, str] = {}  # per limited role: how to connect as the test database's own user


def _admin_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def limited_role(monkeypatch, settings) -> Iterator[str]:
    """A login role allowed LIMIT connections; the probe connects as it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    role = f"{connection.settings_dict['NAME']}_probe"[:63]
    _ADMIN_URL[role] = _admin_url()  # before USER becomes the limited role below
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {}").format(sql.Identifier(role), LIMIT))
    monkeypatch.setitem(connection.settings_dict, "USER", role)
    settings.ALERT_DEPENDENCY_FAILURES = 2
    settings.ALERT_DEPENDENCY_RECOVERIES = 1
    settings.OPS_ALERT_RULES = []
    settings.HEALTH_PROBE_TIMEOUT = 2
    try:
        yield role
    finally:
        monkeypatch.undo()
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
                [role],
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _hold_all(role: str) -> list[psycopg.Connection]:
    db = connection.settings_dict
    return [
        psycopg.connect(dbname=db["NAME"], user=role, host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)
        for _ in range(LIMIT)
    ]


def _backends(role: str, pids: list[int]) -> int:
    """How many of ``pids`` (the held connections, now closed) the server still runs. Asked
    as the admin user: as the limited role this connection would take the freed slot."""
    with psycopg.connect(_ADMIN_URL[role], autocommit=True) as admin:
        query = "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND pid = ANY(%s)"
        return admin.execute(query, [role, pids]).fetchone()[0]


def _wait_until(predicate, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_the_monitor_probes_postgres_with_a_fresh_connection():
    assert dependency_probes()["postgres"] is database_connect_probe


def test_exhausted_connections_report_postgres_down_then_recovered(limited_role):
    monitor = dependency_monitor_create(probes={"postgres": database_connect_probe})
    assert dependency_monitor_check(monitor=monitor, now=1000.0) == []  # up: a connection is free

    held = _hold_all(limited_role)
    held_pids = [conn.info.backend_pid for conn in held]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections"):
            database_connect_probe()
        assert dependency_monitor_check(monitor=monitor, now=1010.0) == []  # one failure: not yet
        [event] = dependency_monitor_check(monitor=monitor, now=1020.0)
        assert (event.dependency, event.state) == ("postgres", FIRING)
        assert "too many connections" in event.detail
        # The process's own connection never noticed: it was opened before the limit was hit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        for conn in held:
            conn.close()
    # A closed client's backend leaves the server a moment later (longer on a loaded machine):
    # the slot is free once its backend is gone, not when close() returns.
    assert _wait_until(lambda: _backends(limited_role, held_pids) == 0), "the held connections never left the server"

    [event] = dependency_monitor_check(monitor=monitor, now=1030.0)
    assert (event.dependency, event.state) == ("postgres", RESOLVED)
    assert database_connect_probe().data == {"vendor": "postgresql"}
