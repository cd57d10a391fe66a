"""Equity snapshot retention: old snapshots thinned to the last one per portfolio and UTC day.

The schedule writes one snapshot per portfolio every PAPER_EQUITY_SNAPSHOT_SECONDS (1,440 a
day at the default); past the retention period a daily point is all a chart needs.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max
from django.db.models.functions import TruncDate

from apps.portfolio.models import EquitySnapshot


def equity_snapshots_thin(*, before: datetime) -> int:
    """Delete snapshots older than ``before`` except each (portfolio, day)'s newest; returns
    how many were deleted."""
    old = EquitySnapshot.objects.filter(ts__lt=before)
    newest_of_day = (
        old.annotate(day=TruncDate("ts")).values("portfolio_id", "day").annotate(newest=Max("id")).values("newest")
    )
    deleted, _ = old.exclude(id__in=newest_of_day).delete()
    return deleted
