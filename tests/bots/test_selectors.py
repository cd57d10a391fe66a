"""Reads for bots: owners see only their own, events newest first, candles as bars."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.bots.models import BotEvent
from apps.bots.selectors import (
    backtest_get,
    backtest_list,
    bot_event_list,
    bot_get,
    bot_list,
    bot_performance_get,
    candle_bars,
    candle_bars_until,
)
from apps.bots.services import backtest_create, bot_create, bot_event_record
from apps.core.exceptions import NotFoundError
from tests.bots.conftest import store_candles

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(user, portfolio):
    return bot_create(owner=user, portfolio=portfolio, name="reads", symbol="BTCUSDT", strategy="dca")


@pytest.fixture
def stranger(django_user_model):
    return django_user_model.objects.create_user(username="stranger", password="pw-123456789")


def test_a_bot_and_its_backtests_are_found_only_by_their_owner(user, stranger, bot):
    backtest = backtest_create(owner=user, strategy="dca", symbol="BTCUSDT")
    assert bot_get(owner=user, bot_id=bot.pk) == bot
    assert list(bot_list(owner=user)) == [bot]
    assert backtest_get(owner=user, backtest_id=backtest.pk) == backtest
    assert list(backtest_list(owner=user, bot=bot)) == []
    assert list(bot_list(owner=stranger)) == []
    assert list(backtest_list(owner=stranger)) == []
    with pytest.raises(NotFoundError):
        bot_get(owner=stranger, bot_id=bot.pk)
    with pytest.raises(NotFoundError):
        backtest_get(owner=stranger, backtest_id=backtest.pk)


def test_events_newest_first_by_kind_and_limit(bot):
    BotEvent.objects.filter(bot=bot).delete()
    for n in range(3):
        bot_event_record(bot=bot, kind=BotEvent.Kind.RISK, message=f"risk {n}")
    bot_event_record(bot=bot, kind=BotEvent.Kind.ORDER, message="order")
    assert [e.message for e in bot_event_list(bot=bot)] == ["order", "risk 2", "risk 1", "risk 0"]
    assert [e.message for e in bot_event_list(bot=bot, kind=BotEvent.Kind.RISK, limit=2)] == ["risk 2", "risk 1"]


def test_candle_bars_oldest_first_within_the_range(db):
    times = store_candles([100, 101, 102, 103, 104])
    bars = candle_bars(exchange="binance", symbol="BTCUSDT", timeframe="1m", start_ms=times[1], end_ms=times[3])
    assert [(b.open_time_ms, b.close) for b in bars] == [(times[1], D(101)), (times[2], D(102)), (times[3], D(103))]
    assert len(candle_bars(exchange="binance", symbol="BTCUSDT", timeframe="1m")) == 5
    assert candle_bars(exchange="binance", symbol="BTCUSDT", timeframe="5m") == []


def test_candle_bars_until_takes_the_newest_at_or_before_the_end(db):
    times = store_candles([100, 101, 102, 103, 104])
    bars = candle_bars_until(exchange="binance", symbol="BTCUSDT", timeframe="1m", end_ms=times[3], count=2)
    assert [b.open_time_ms for b in bars] == [times[2], times[3]]


def test_a_bot_without_fills_has_zero_performance_and_no_mark(bot):
    performance = bot_performance_get(bot=bot)
    assert (performance.fills, performance.quantity, performance.total_pnl) == (0, D(0), D(0))
    assert performance.mark is None and performance.win_rate_pct is None
    assert performance.return_pct == D(0)
