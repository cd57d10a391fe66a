"""Data retention, run daily by the beat task ``apps.ops.tasks.retention_task``.

- Audit events: archived to gzip JSONL files in AUDIT_ARCHIVE_DIR, then deleted
  (apps.safety.retention), after AUDIT_RETENTION_DAYS.
- Alert notifications (the delivery log): deleted after ALERT_RETENTION_DAYS.
- Equity snapshots: after PAPER_EQUITY_RETENTION_DAYS only the last snapshot of each
  portfolio and UTC day is kept (apps.portfolio.retention), so equity curves keep their
  whole history at daily resolution.

A period of 0 keeps that data forever. See docs/OPERATIONS.md "Retention".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from apps.ops.models import AlertNotification
from apps.portfolio.retention import equity_snapshots_thin
from apps.safety.retention import audit_archive_and_prune

logger = logging.getLogger(__name__)


def _cutoff(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def alert_notifications_prune(*, before: datetime) -> int:
    deleted, _ = AlertNotification.objects.filter(created_at__lt=before).delete()
    return deleted


def retention_run(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    result = {"audit_archived": 0, "alerts_deleted": 0, "equity_deleted": 0}
    if before := _cutoff(now, settings.AUDIT_RETENTION_DAYS):
        archive_dir = Path(settings.AUDIT_ARCHIVE_DIR)
        result["audit_archived"] = audit_archive_and_prune(before=before, archive_dir=archive_dir)
    if before := _cutoff(now, settings.ALERT_RETENTION_DAYS):
        result["alerts_deleted"] = alert_notifications_prune(before=before)
    if before := _cutoff(now, settings.PAPER_EQUITY_RETENTION_DAYS):
        result["equity_deleted"] = equity_snapshots_thin(before=before)
    logger.info("retention: %s", result)
    return result
