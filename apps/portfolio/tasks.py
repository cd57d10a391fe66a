"""Thin Celery wrappers for the paper trading engine."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="apps.portfolio.tasks.equity_snapshot_all_task")
def equity_snapshot_all_task() -> int:
    """Beat: one equity snapshot per portfolio, marked to the live mids."""
    from apps.portfolio.services.equity import equity_snapshot_all

    return equity_snapshot_all()
