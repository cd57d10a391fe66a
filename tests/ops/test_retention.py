"""Retention (apps.ops.retention): audit events archived to gzip JSONL before deletion, alert
notifications and old equity snapshots pruned, driven by the daily beat task.

Runs on the suite's database (Postgres in CI) and, through ``test_retention_on_sqlite``, the
same tests again in a child pytest on SQLite.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from apps.ops.models import AlertNotification, AlertRule
from apps.ops.retention import retention_run
from apps.ops.tasks import retention_task
from apps.portfolio.models import EquitySnapshot, Portfolio
from apps.safety.audit import audit_record
from apps.safety.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
NOW = timezone.now()
OLD = NOW - timedelta(days=40)


def _audit(message: str, *, at: datetime) -> AuditEvent:
    event = audit_record(category="order", action="place", message=message, symbol="BTCUSDT", data={"n": message})
    AuditEvent._base_manager.filter(pk=event.pk).update(created_at=at)  # tests only: backdating
    return event


def _archived(directory: Path) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("audit-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh]
    return rows


@pytest.mark.django_db
def test_old_audit_events_are_archived_then_deleted(tmp_path):
    old = [_audit(f"old {n}", at=OLD - timedelta(minutes=n)) for n in range(3)]
    kept = _audit("recent", at=NOW - timedelta(days=1))
    with override_settings(AUDIT_RETENTION_DAYS=30, AUDIT_ARCHIVE_DIR=str(tmp_path)):
        result = retention_run(now=NOW)
    assert result["audit_archived"] == 3
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    archived = _archived(tmp_path)
    assert sorted(row["id"] for row in archived) == sorted(e.pk for e in old)
    row = next(r for r in archived if r["id"] == old[0].pk)
    assert row["message"] == "old 0" and row["symbol"] == "BTCUSDT" and row["data"] == {"n": "old 0"}
    assert datetime.fromisoformat(row["created_at"]) == OLD
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.django_db
def test_audit_events_stay_when_the_archive_cannot_be_written(tmp_path):
    _audit("old", at=OLD)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with override_settings(AUDIT_RETENTION_DAYS=30, AUDIT_ARCHIVE_DIR=str(blocker)), pytest.raises(OSError):
        retention_run(now=NOW)
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_zero_days_keeps_everything(tmp_path):
    _audit("old", at=OLD)
    rule = AlertRule.objects.create(name="r0")
    _notification(rule, at=OLD)
    with override_settings(AUDIT_RETENTION_DAYS=0, ALERT_RETENTION_DAYS=0, PAPER_EQUITY_RETENTION_DAYS=0):
        result = retention_run(now=NOW)
    assert result == {"audit_archived": 0, "alerts_deleted": 0, "equity_deleted": 0}
    assert AuditEvent.objects.count() == 1 and AlertNotification.objects.count() == 1
    assert not list(tmp_path.iterdir())


def _notification(rule: AlertRule, *, at: datetime) -> AlertNotification:
    note = AlertNotification.objects.create(
        rule=rule, channel="email", kind="bot_error", severity="warning", dedup_key="k", title="t"
    )
    AlertNotification.objects.filter(pk=note.pk).update(created_at=at)
    return note


@pytest.mark.django_db
def test_old_alert_notifications_are_deleted(tmp_path):
    rule = AlertRule.objects.create(name="r1")
    _notification(rule, at=OLD)
    recent = _notification(rule, at=NOW - timedelta(days=2))
    with override_settings(ALERT_RETENTION_DAYS=30, AUDIT_ARCHIVE_DIR=str(tmp_path)):
        result = retention_run(now=NOW)
    assert result["alerts_deleted"] == 1
    assert list(AlertNotification.objects.values_list("pk", flat=True)) == [recent.pk]


def _snapshot(portfolio: Portfolio, at: datetime, equity: str) -> EquitySnapshot:
    value = Decimal(equity)
    return EquitySnapshot.objects.create(
        portfolio=portfolio, ts=at, equity=value, cash=value, positions_value=Decimal("0"), reason="schedule"
    )


@pytest.mark.django_db
def test_old_equity_snapshots_thin_to_the_last_of_each_day(tmp_path):
    owner = get_user_model().objects.create_user("retention-owner", password="x")
    portfolios = [Portfolio.objects.create(owner=owner, name=f"p{n}") for n in range(2)]
    day = (NOW - timedelta(days=60)).replace(hour=0, minute=0, second=0, microsecond=0)
    for portfolio in portfolios:
        for hour in (1, 12, 23):
            _snapshot(portfolio, day + timedelta(hours=hour), f"{hour}")
        _snapshot(portfolio, day + timedelta(days=1, hours=2), "26")
        _snapshot(portfolio, NOW - timedelta(hours=2), "100")
        _snapshot(portfolio, NOW - timedelta(hours=1), "101")
    with override_settings(PAPER_EQUITY_RETENTION_DAYS=30, AUDIT_ARCHIVE_DIR=str(tmp_path)):
        result = retention_run(now=NOW)
    assert result["equity_deleted"] == 4
    for portfolio in portfolios:
        equities = list(portfolio.equity_snapshots.order_by("ts").values_list("equity", flat=True))
        assert equities == [Decimal("23"), Decimal("26"), Decimal("100"), Decimal("101")]


@pytest.mark.django_db
def test_the_daily_beat_task_runs_the_retention(tmp_path):
    assert settings.CELERY_BEAT_SCHEDULE["ops-retention"]["task"] == "apps.ops.tasks.retention_task"
    _audit("old", at=OLD)
    with override_settings(AUDIT_RETENTION_DAYS=30, AUDIT_ARCHIVE_DIR=str(tmp_path)):
        result = retention_task.delay().get()
    assert result["audit_archived"] == 1 and AuditEvent.objects.count() == 0


@pytest.mark.skipif(os.environ.get("PTP_RETENTION_CHILD") != "1", reason="only in the SQLite child run")
def test_the_child_run_is_on_sqlite():
    from django.db import connection

    assert connection.vendor == "sqlite"


@pytest.mark.skipif(os.environ.get("PTP_RETENTION_CHILD") == "1", reason="already the SQLite run")
def test_retention_on_sqlite():
    """The same tests on SQLite (embedded mode's database), in a child pytest."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL")}
    env.update(DATABASE_URL="sqlite:///:memory:", TEST_DB_ENGINE="sqlite", PTP_RETENTION_CHILD="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "not test_retention_on_sqlite",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "7 passed" in result.stdout, result.stdout[-1000:]
