from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.bots.metrics import BOTS_ERRORED, BOTS_RUNNING
from apps.bots.realtime import bot_group
from apps.bots.reconcile import LiveRun, TradeLine, reconcile
from apps.bots.services import bot_create, bot_start, bot_status_set
from tests.channel_messages import channel_receive

pytestmark = pytest.mark.django_db


def test_state_changes_are_pushed_after_commit_and_gauges_follow(user, portfolio, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    bot = bot_create(owner=user, portfolio=portfolio, name="live", symbol="BTCUSDT", strategy="dca")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(bot_group(bot.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        bot = bot_start(bot=bot, actor=user)
    message = channel_receive(channel)
    assert message["type"] == "bot.event" and message["bot_id"] == bot.pk
    assert message["status"] == "running" and message["event"]["kind"] == "state"
    assert BOTS_RUNNING._value.get() == 1 and BOTS_ERRORED._value.get() == 0
    with django_capture_on_commit_callbacks(execute=True):
        bot_status_set(bot=bot, status="error", reason="boom", kind="error")
    assert channel_receive(channel)["status_reason"] == "boom"
    assert BOTS_RUNNING._value.get() == 0 and BOTS_ERRORED._value.get() == 1


def test_reconcile_pure_classifies_differences():
    from decimal import Decimal as D

    live = [TradeLine(1, "buy", D("1"), D("100")), TradeLine(5, "sell", D("1"), D("110"))]
    backtest = [
        TradeLine(1, "buy", D("1"), D("100.001")),
        TradeLine(3, "sell", D("1"), D("105")),
        TradeLine(7, "buy", D("1"), D("99")),
    ]
    runs = {1: LiveRun("buy"), 3: LiveRun("hold", "cooldown: 1/3 candles since last trade"), 5: LiveRun("sell")}
    result = reconcile(live=live, backtest=backtest, runs=runs, candles=range(1, 8))
    assert result["summary"] == {"live_trades": 2, "backtest_trades": 3, "matched": 1, "differences": 3}
    kinds = [(d["open_time_ms"], d["kind"]) for d in result["differences"]]
    assert kinds == [(3, "backtest_only"), (5, "live_only"), (7, "backtest_only")]
    assert "the live bot held: cooldown" in result["differences"][0]["why"][0]
    assert "earlier divergence at 3" in result["differences"][1]["why"][0]
    assert "did not evaluate" in result["differences"][2]["why"][0]
