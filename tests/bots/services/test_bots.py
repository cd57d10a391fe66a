from __future__ import annotations

import pytest

from apps.bots.models import Bot, BotEvent
from apps.bots.services import bot_create, bot_pause, bot_start, bot_stop, bot_update
from apps.core.exceptions import ApplicationError, ConflictError
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def _create(user, portfolio, **kwargs):
    kwargs.setdefault("name", "rsi bot")
    kwargs.setdefault("symbol", "btcusdt")
    kwargs.setdefault("strategy", "rsi_mean_reversion")
    return bot_create(owner=user, portfolio=portfolio, **kwargs)


def test_create_stores_typed_defaults_and_logs(user, portfolio):
    bot = _create(user, portfolio, params={"period": "7"}, risk={"order_size": "50", "stop_loss_pct": "3"})
    assert (bot.status, bot.symbol, bot.exchange) == ("stopped", "BTCUSDT", "binance")
    assert bot.params == {"period": 7, "oversold": 30.0, "overbought": 70.0}
    assert bot.risk["order_size"] == "50" and bot.risk["stop_loss_pct"] == "3"
    assert bot.events.filter(kind="state").count() == 1
    assert AuditEvent.objects.filter(category="bot", action="bot.create").count() == 1


def test_invalid_configuration_gives_field_errors_and_saves_nothing(user, portfolio):
    with pytest.raises(ApplicationError) as exc:
        _create(
            user,
            portfolio,
            name="",
            timeframe="2m",
            params={"period": 1, "oversold": "x", "typo": 1},
            risk={"order_size": "0", "stop_loss_pct": "101"},
        )
    assert set(exc.value.fields) == {
        "name",
        "timeframe",
        "params.period",
        "params.oversold",
        "params.typo",
        "risk.order_size",
        "risk.stop_loss_pct",
    }
    assert Bot.objects.count() == 0 and BotEvent.objects.count() == 0
    assert not AuditEvent.objects.filter(category="bot").exists()


def test_unknown_strategy_and_foreign_portfolio(user, portfolio, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="pw-123456789")
    with pytest.raises(ApplicationError) as exc:
        bot_create(owner=other, portfolio=portfolio, name="x", symbol="BTCUSDT", strategy="nope")
    assert set(exc.value.fields) == {"portfolio", "strategy"}


def test_update_validates_everything_and_saves_nothing_on_error(user, portfolio):
    bot = _create(user, portfolio)
    with pytest.raises(ApplicationError) as exc:
        bot_update(bot=bot, actor=user, data={"params": {"oversold": 90}, "risk": {"cooldown_candles": -1}})
    assert set(exc.value.fields) == {"params.oversold", "risk.cooldown_candles"}
    bot.refresh_from_db()
    assert bot.params["oversold"] == 30.0 and bot.risk["cooldown_candles"] == 0
    bot = bot_update(bot=bot, actor=user, data={"strategy": "macd_crossover"})
    assert bot.params == {"fast": 12, "slow": 26, "signal": 9}


def test_lifecycle_and_running_bot_refuses_strategy_change(user, portfolio):
    bot = _create(user, portfolio)
    bot = bot_start(bot=bot, actor=user)
    assert bot.status == "running"
    with pytest.raises(ConflictError):
        bot_update(bot=bot, actor=user, data={"strategy": "dca"})
    bot_update(bot=bot, actor=user, data={"params": {"period": 9}})  # params may change live
    bot = bot_pause(bot=bot, actor=user, reason="lunch")
    assert (bot.status, bot.status_reason) == ("paused", "lunch")
    with pytest.raises(ConflictError):
        bot_pause(bot=bot_stop(bot=bot, actor=user), actor=user)
    assert list(bot.events.order_by("id").values_list("message", flat=True)) == [
        "created (stopped)",
        "stopped -> running",
        "configuration changed: params",
        "running -> paused: lunch",
        "paused -> stopped",
    ]
    assert AuditEvent.objects.filter(category="bot", action="bot.running").count() == 1


def test_a_kucoin_bot_cannot_have_a_trailing_stop(user):
    from apps.core.exceptions import RuleError
    from apps.portfolio.services import portfolio_create
    from tests.factories import instrument_make

    instrument_make("kucoin")
    kucoin = portfolio_create(owner=user, name="kc", exchange="kucoin", starting_balances={"USDT": "1000"})
    with pytest.raises(RuleError) as exc:
        _create(user, kucoin, risk={"trailing_stop_pct": "1"})
    assert set(exc.value.fields) == {"risk.trailing_stop_pct"}
    assert _create(user, kucoin, risk={"stop_loss_pct": "1"}).risk["stop_loss_pct"] == "1"
