"""Scheduled equity snapshots (the per-fill ones are taken inside the fill transaction)."""

from __future__ import annotations

from apps.portfolio import metrics
from apps.portfolio.models import Portfolio
from apps.portfolio.services.execution import equity_snapshot_record


def equity_snapshot_all() -> int:
    """Snapshot every portfolio; also refreshes the bounded equity gauges."""
    values = []
    for portfolio in Portfolio.objects.all().iterator(chunk_size=500):
        snapshot = equity_snapshot_record(portfolio=portfolio, reason="schedule")
        values.append(float(snapshot.equity))
    values.sort(reverse=True)
    metrics.equity_set(total=sum(values), top=values[: metrics.TOP_N_EQUITY])
    return len(values)
