"""Matcher downtime: what no stored candle covers is marked not simulated; checkpoints only move forward."""

from __future__ import annotations

import pytest

from apps.portfolio.models import OrderDowntime
from apps.portfolio.services import order_cancel, order_place
from apps.portfolio.services.replay import checkpoints_get, checkpoints_save, order_downtime_replay
from apps.portfolio.services.resting import order_arrival_ms
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db

MIN = 60_000


def test_checkpoints_are_upserted_and_only_move_forward():
    checkpoints_save(marks={("binance", "BTCUSDT"): 5_000, ("kucoin", "BTCUSDT"): 7_000})
    checkpoints_save(marks={("binance", "BTCUSDT"): 4_000, ("kucoin", "BTCUSDT"): 9_000})
    checkpoints_save(marks={})
    assert checkpoints_get() == {("binance", "BTCUSDT"): 5_000, ("kucoin", "BTCUSDT"): 9_000}


def test_a_window_without_candles_is_marked_not_simulated_and_audited(make_portfolio, std_book, user):
    p = make_portfolio()
    order = order_place(
        portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price="90"
    )
    arrived = order_arrival_ms(order)
    result = order_downtime_replay(order_id=order.pk, start_ms=0, end_ms=arrived + 3 * MIN)
    assert result is not None and (result.replayed_bars, result.fills) == (0, 0)
    assert result.gaps and result.gaps[0][0] == arrived  # the window starts when the order arrived
    order.refresh_from_db()
    assert order.not_simulated and order.matched_until_ms == arrived + 3 * MIN
    assert OrderDowntime.objects.filter(order=order, kind=OrderDowntime.Kind.NOT_SIMULATED).count() == len(result.gaps)
    assert AuditEvent.objects.filter(action="order.not_simulated", portfolio_id=p.pk).count() == len(result.gaps)


def test_a_closed_order_is_not_replayed(make_portfolio, std_book, user):
    p = make_portfolio()
    order = order_place(
        portfolio=p, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="1", price="90"
    )
    order_cancel(order=order, actor=user)
    assert order_downtime_replay(order_id=order.pk, start_ms=0, end_ms=order_arrival_ms(order) + MIN) is None
