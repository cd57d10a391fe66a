"""Scheduled equity snapshots of every portfolio."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio.models import EquitySnapshot
from apps.portfolio.services.equity import equity_snapshot_all

pytestmark = pytest.mark.django_db


def test_scheduled_equity_snapshots(make_portfolio, std_book, user):
    p = make_portfolio()
    assert equity_snapshot_all() == 1
    snapshot = EquitySnapshot.objects.filter(portfolio=p, reason="schedule").get()
    assert snapshot.equity == D("10100")  # 10000 USDT + 1 BTC at mid 100
    from django.conf import settings

    assert (
        settings.CELERY_BEAT_SCHEDULE["portfolio-equity-snapshots"]["task"]
        == "apps.portfolio.tasks.equity_snapshot_all_task"
    )
