"""The runner against the real order service: idempotency, errors pause, kill switch."""

from __future__ import annotations

import re
import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from apps.bots.models import Bot, BotCandleRun
from apps.bots.services import bot_create, bot_evaluate, bot_start
from apps.bots.tasks import bot_evaluate_task
from apps.ops.models import AlertNotification
from apps.ops.preferences import notification_preference_save
from apps.portfolio.models import Order
from apps.safety.models import AuditEvent
from tests.bots.conftest import set_book, store_candles
from tests.bots.helpers import quiet_bot_start

pytestmark = pytest.mark.django_db

# RSI(2): two falls put RSI at 0 on the third candle -> buy.
FALLING = [100, 99, 98]


def _running_bot(user, portfolio, **risk):
    bot = bot_create(
        owner=user,
        portfolio=portfolio,
        name="rsi",
        symbol="BTCUSDT",
        strategy="rsi_mean_reversion",
        params={"period": 2},
        risk={"order_size": "100", **risk},
    )
    return bot_start(bot=bot, actor=user)


def test_buy_goes_through_the_order_service_with_a_deterministic_client_id(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    run = bot_evaluate(bot=bot, candle_open_time_ms=times[-1])
    assert (run.status, run.action) == ("done", "buy")
    order = run.order
    assert (order.client_order_id, order.source, order.side, order.status) == (
        f"bot{bot.pk}-{times[-1]}",
        "bot",
        "buy",
        "filled",
    )
    assert order.quote_quantity == D("100")
    bot.refresh_from_db()
    assert D(bot.state["quantity"]) == order.filled_qty - order.fees_paid  # fee taken in BTC
    assert bot.state["entries"] == 1
    assert AuditEvent.objects.filter(category="order", action="order.place", portfolio_id=portfolio.pk).count() == 1
    assert [e.kind for e in bot.events.order_by("id")][-2:] == ["signal", "order"]
    # The event log reads like a person wrote it: the step's and the tick's decimals, no 18-digit values.
    message = bot.events.order_by("id").last().message
    assert re.match(r"buy \d+\.\d{5} @ \d+\.\d{2} \(", message), message


def test_duplicate_delivery_places_at_most_one_order(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    first = bot_evaluate_task(bot.pk, times[-1])
    again = bot_evaluate_task(bot.pk, times[-1])
    assert first == again == "done:buy"
    assert Order.objects.filter(portfolio=portfolio).count() == 1
    assert BotCandleRun.objects.filter(bot=bot).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_deliveries_place_one_order(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            results.append(bot_evaluate_task(bot.pk, times[-1]))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["done:buy"] * 4
    assert Order.objects.filter(portfolio=portfolio).count() == 1
    assert BotCandleRun.objects.filter(bot=bot).count() == 1


def test_an_error_pauses_the_bot_with_the_reason_and_a_retry_does_not_order(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio, order_size="1")  # below the 5 USDT minimum notional
    run = bot_evaluate(bot=bot, candle_open_time_ms=times[-1])
    bot.refresh_from_db()
    assert run.status == "error"
    assert bot.status == "error" and "order refused" in bot.status_reason
    assert bot.events.filter(kind="error").exists()
    # The refusal was audited by the order service and survives our transaction.
    assert AuditEvent.objects.filter(category="order", result="rejected", portfolio_id=portfolio.pk).count() == 1
    bot_start(bot=bot, actor=user)
    assert bot_evaluate(bot=bot, candle_open_time_ms=times[-1]).status == "error"  # the same candle is never retried
    assert Order.objects.filter(portfolio=portfolio).count() == 0


def test_no_live_book_skips_the_order_and_the_bot_keeps_running(user, portfolio):
    """The feed drops a book while it resyncs it (a sequence gap): the market is briefly
    unavailable, which is no reason to stop a bot (the 15-minute soak lost two that way)."""
    times = store_candles(FALLING)  # no book recorded: the order service refuses a market order
    bot = _running_bot(user, portfolio)
    run = bot_evaluate(bot=bot, candle_open_time_ms=times[-1])
    bot.refresh_from_db()
    assert run.status == "error" and "no live order book" in run.reason.lower()
    assert bot.status == "running"
    assert bot.events.filter(kind="error", message__icontains="not placed").exists()
    assert Order.objects.filter(portfolio=portfolio).count() == 0


def test_an_unexpected_exception_pauses_the_bot(user, portfolio, monkeypatch):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    Bot.objects.filter(pk=bot.pk).update(params={"period": "oops"})
    run = bot_evaluate(bot=bot, candle_open_time_ms=times[-1])
    bot.refresh_from_db()
    assert run.status == "error" and bot.status == "error"
    assert "ParamsInvalid" in bot.status_reason


def test_not_running_or_missing_candle_is_skipped(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    assert bot_evaluate(bot=bot, candle_open_time_ms=times[-1] + 60_000) is None  # not stored yet
    assert bot.events.filter(kind="error", message__startswith="candle not stored").exists()
    Bot.objects.filter(pk=bot.pk).update(status="paused")
    assert bot_evaluate(bot=bot, candle_open_time_ms=times[-1]) is None
    assert not BotCandleRun.objects.exists()


def test_drawdown_kill_switch_stops_the_bot(user, portfolio):
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio, max_drawdown_pct="10")
    Bot.objects.filter(pk=bot.pk).update(state={"equity_peak": "20000"})
    run = bot_evaluate(bot=bot, candle_open_time_ms=times[-1])
    bot.refresh_from_db()
    assert run.action == "kill"
    assert bot.status == "stopped" and "drawdown kill switch" in bot.status_reason
    assert not Order.objects.exists()


def test_a_paused_bot_reaches_its_owner_as_an_ops_alert(user, portfolio, django_capture_on_commit_callbacks):
    # bots announces (apps.bots.signals.bot_alert); ops listens and routes it by the owner's
    # notification preferences. Neither the runner nor this test names ops' alerting.
    notification_preference_save(user=user, email_enabled=True, email="botter@example.com", kinds=["bot_error"])
    times = store_candles(FALLING)
    set_book(98)
    bot = _running_bot(user, portfolio)
    Bot.objects.filter(pk=bot.pk).update(params={"period": "oops"})
    with django_capture_on_commit_callbacks(execute=True):
        assert bot_evaluate(bot=bot, candle_open_time_ms=times[-1]).status == "error"
    alert = AlertNotification.objects.get(dedup_key=f"bot_error:bot{bot.pk}")
    assert (alert.kind, alert.rule.name, alert.title) == ("bot_error", f"user:{user.pk}", "Bot rsi paused by an error")
    assert "ParamsInvalid" in alert.message


def _quiet_bot(user, portfolio):
    return quiet_bot_start(owner=user, portfolio=portfolio)


def test_start_settles_the_closes_before_it(user, portfolio):
    times = store_candles([100, 101, 102])
    bot = _quiet_bot(user, portfolio)
    assert bot.last_candle_ms == times[-1]  # nothing before the start is owed to the bot


def test_a_notification_after_missed_closes_evaluates_each_exactly_once_in_order(user, portfolio):
    first = store_candles([100, 101])
    bot = _quiet_bot(user, portfolio)
    missed = store_candles([102, 103, 104, 105], start_ms=first[-1] + 60_000)
    # The feeds came back after an outage and name only the newest close.
    run = bot_evaluate(bot=bot, candle_open_time_ms=missed[-1])
    assert run.candle_open_ms == missed[-1]
    runs = list(BotCandleRun.objects.filter(bot=bot).order_by("id").values_list("candle_open_ms", flat=True))
    assert runs == missed
    # The same notification again (or the REST re-read of the same close): nothing new.
    bot_evaluate(bot=bot, candle_open_time_ms=missed[-1])
    assert BotCandleRun.objects.filter(bot=bot).count() == len(missed)
    bot.refresh_from_db()
    assert bot.last_candle_ms == missed[-1]


def test_a_resumed_bot_does_not_replay_its_paused_period(user, portfolio):
    from apps.bots.services import bot_pause

    first = store_candles([100, 101])
    bot = _quiet_bot(user, portfolio)
    bot_pause(bot=bot, actor=user)
    paused = store_candles([102, 103, 104], start_ms=first[-1] + 60_000)
    bot = bot_start(bot=Bot.objects.get(pk=bot.pk), actor=user)
    after = store_candles([105], start_ms=paused[-1] + 60_000)
    bot_evaluate(bot=bot, candle_open_time_ms=after[-1])
    assert list(BotCandleRun.objects.filter(bot=bot).values_list("candle_open_ms", flat=True)) == after
