"""The bot runner: one evaluation per (bot, closed candle), idempotent.

``bot_evaluate`` locks the bot row, then claims the (bot, candle) with a ``BotCandleRun`` row
(unique constraint). A duplicated or retried task finds the claim and does nothing, and the
order's deterministic ``client_order_id`` (``bot<id>-<open_ms>``) makes the order service
itself refuse a second order for the same candle. Every order goes through ``order_place``
(safety guard, exchange filters, audit). A failure pauses the bot in status ``error`` with
the reason, instead of leaving it silently dead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import Any

from django.db import transaction

from apps.bots.metrics import evaluation_observed
from apps.bots.models import Bot, BotCandleRun, BotEvent
from apps.bots.risk import BotState, Decision, decide, risk_clean
from apps.bots.selectors import candle_bars_until, candle_opens_between
from apps.bots.services.bots import bot_event_record, bot_status_set
from apps.bots.services.exits import bot_exits_cancel, bot_exits_place, bot_exits_sync, bot_order_book
from apps.bots.signals import bot_alert
from apps.bots.strategies import HOLD, Bar, Signal, strategy_build
from apps.core.exceptions import ApplicationError
from apps.market.feeds.symbols import TIMEFRAME_MS
from apps.portfolio.errors import MarketDataUnavailableError
from apps.portfolio.fills import step_down
from apps.portfolio.models import Balance
from apps.portfolio.services import order_place
from apps.portfolio.services.instruments import instrument_rules_get

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
QUOTE_STEP = Decimal("0.00000001")
# Closes one notification may evaluate for a bot that missed many (a day of 1m candles and
# more): the newest are evaluated, older ones are settled as missed.
MAX_CATCH_UP = 1440


def bot_client_order_id(*, bot_id: int, candle_open_ms: int) -> str:
    return f"bot{bot_id}-{candle_open_ms}"


def bots_candle_closed(
    *, exchange: str, symbol: str, timeframe: str, open_time_ms: int, enqueue: Callable[[int, int], object]
) -> list[int]:
    """Enqueue one evaluation per running bot on this feed (after the candle's commit):
    ``enqueue(bot_id, open_time_ms)``, which the task passes as ``bot_evaluate_task.delay``.
    Called when a candle closes; returns the bot ids enqueued."""
    ids = list(
        Bot.objects.filter(
            exchange=exchange, symbol=symbol, timeframe=timeframe, status=Bot.Status.RUNNING
        ).values_list("pk", flat=True)
    )
    for bot_id in ids:
        transaction.on_commit(partial(enqueue, bot_id, open_time_ms))
    return ids


def bot_evaluate(*, bot: Bot, candle_open_time_ms: int) -> BotCandleRun | None:
    """Evaluate ``bot`` on its closed candle opening at ``candle_open_time_ms``, and first on
    every stored close it has not seen since the last one it evaluated, oldest first, each in
    its own transaction and exactly once (the claim row). After an outage or a restart the
    feeds name only the newest close (``apps.market.feeds.candle_sync``): this is how the
    closes in between reach the bot. Returns the run of ``candle_open_time_ms`` (the existing
    one for a duplicate), or None when the bot is not running or the candle is not stored
    yet (a later retry may succeed)."""
    run = None
    for open_ms in _closes_owed(bot=bot, upto_ms=candle_open_time_ms):
        run = _evaluate_one(bot=bot, open_ms=open_ms)
        if run is None and open_ms != candle_open_time_ms:
            return None  # the bot stopped (or errored) during the catch-up
    return run


def _closes_owed(*, bot: Bot, upto_ms: int) -> list[int]:
    cursor = Bot.objects.filter(pk=bot.pk).values_list("last_candle_ms", flat=True).first()
    if cursor is None or cursor >= upto_ms:
        return [upto_ms]
    missed = candle_opens_between(
        exchange=bot.exchange,
        symbol=bot.symbol,
        timeframe=bot.timeframe,
        after_ms=cursor,
        before_ms=upto_ms,
        limit=MAX_CATCH_UP,
    )
    return [*missed, upto_ms]


def _evaluate_one(*, bot: Bot, open_ms: int) -> BotCandleRun | None:
    try:
        with transaction.atomic():
            return _evaluate(bot_id=bot.pk, open_ms=open_ms)
    except Exception as error:
        logger.exception("bot %s evaluation of %s failed", bot.pk, open_ms)
        return _evaluation_failed(bot_id=bot.pk, open_ms=open_ms, reason=f"{type(error).__name__}: {error}")


def _evaluate(*, bot_id: int, open_ms: int) -> BotCandleRun | None:
    bot = Bot.objects.select_for_update().select_related("portfolio", "owner").get(pk=bot_id)
    if bot.status != Bot.Status.RUNNING:
        evaluation_observed("not_running")
        return None
    existing = BotCandleRun.objects.filter(bot=bot, candle_open_ms=open_ms).first()
    if existing is not None:
        evaluation_observed("duplicate")
        return existing
    strategy = strategy_build(bot.strategy, bot.params, timeframe_ms=TIMEFRAME_MS[bot.timeframe])
    history = candle_bars_until(
        exchange=bot.exchange, symbol=bot.symbol, timeframe=bot.timeframe, end_ms=open_ms, count=strategy.warmup + 1
    )
    if not history or history[-1].open_time_ms != open_ms:
        evaluation_observed("candle_missing")
        bot_event_record(
            bot=bot, kind=BotEvent.Kind.ERROR, message="candle not stored yet; skipped", candle_open_ms=open_ms
        )
        return None
    run = BotCandleRun.objects.create(bot=bot, candle_open_ms=open_ms)
    state = BotState.from_json(bot.state)
    # What the resting exits filled since the last close (between closes, on trades).
    bot_exits_sync(bot=bot, state=state, open_ms=open_ms)
    signal = _replay(strategy, history, state)
    decision = _decide(bot=bot, state=state, signal=signal, bar=history[-1])
    if signal.action != "hold":
        bot_event_record(
            bot=bot, kind=BotEvent.Kind.SIGNAL, message=f"{signal.action}: {signal.reason}", candle_open_ms=open_ms
        )
    _act(bot=bot, run=run, state=state, decision=decision, bar=history[-1])
    bot.state = state.to_json()
    # The cursor of the catch-up (``_closes_owed``) only moves forward: a late retry of an
    # older close does not make the closes after it owed again.
    bot.last_candle_ms = open_ms if bot.last_candle_ms is None else max(bot.last_candle_ms, open_ms)
    bot.save(update_fields=["state", "last_candle_ms", "updated_at"])
    run.save()
    evaluation_observed(run.status if run.status == BotCandleRun.Status.ERROR else run.action or "hold")
    return run


def _replay(strategy: Any, history: list[Bar], state: BotState) -> Signal:
    """Rebuild indicator state from stored candles; the last candle's signal is the one acted on."""
    view = state.view()
    signal = HOLD
    for bar in history:
        signal = strategy.on_candle(bar, view)
    return signal


def _quote_balance(bot: Bot, quote_asset: str) -> tuple[Decimal, Decimal]:
    balance = Balance.objects.filter(portfolio=bot.portfolio, asset=quote_asset).first()
    return (balance.free, balance.total) if balance is not None else (ZERO, ZERO)


def _decide(*, bot: Bot, state: BotState, signal: Signal, bar: Bar) -> Decision:
    rules = instrument_rules_get(exchange=bot.exchange, symbol=bot.symbol)
    free, total = _quote_balance(bot, rules.quote_asset)
    # Equity the bot answers for: the portfolio's quote plus the bot's own position.
    equity = total + state.quantity * bar.close
    return decide(
        signal=signal,
        open_time_ms=bar.open_time_ms,
        close=bar.close,
        state=state,
        risk=risk_clean(bot.risk),
        quote_free=free,
        equity=equity,
        timeframe_ms=TIMEFRAME_MS[bot.timeframe],
    )


def _act(*, bot: Bot, run: BotCandleRun, state: BotState, decision: Decision, bar: Bar) -> None:
    run.action, run.reason = decision.action, decision.reason[:500]
    run.status = BotCandleRun.Status.DONE
    if decision.action == "kill":
        bot_status_set(bot=bot, status=Bot.Status.STOPPED, reason=decision.reason, kind=BotEvent.Kind.RISK)
        transaction.on_commit(
            lambda: _alert(
                kind="kill_switch",
                title=f"Bot {bot.name} stopped by its drawdown kill switch",
                reason=decision.reason,
                bot_id=bot.pk,
            )
        )
        return
    if decision.action == "hold":
        if decision.source == "risk":
            bot_event_record(bot=bot, kind=BotEvent.Kind.RISK, message=decision.reason, candle_open_ms=bar.open_time_ms)
        return
    try:
        order = _trade(bot=bot, state=state, decision=decision, open_ms=bar.open_time_ms)
    except MarketDataUnavailableError as error:
        # No live book this moment (the feed is resyncing it): the market, not the bot, is
        # unavailable. This close's order is not placed; the bot keeps running.
        run.status = BotCandleRun.Status.ERROR
        run.reason = f"order not placed: {error.message}"[:500]
        bot_event_record(bot=bot, kind=BotEvent.Kind.ERROR, message=run.reason, candle_open_ms=bar.open_time_ms)
        return
    except ApplicationError as error:
        # The order service refused (and audited) it: pause with the reason shown.
        run.status = BotCandleRun.Status.ERROR
        run.reason = f"order refused: {error.message}"[:500]
        _bot_errored(bot=bot, reason=run.reason)
        return
    run.order = order


def _trade(*, bot: Bot, state: BotState, decision: Decision, open_ms: int) -> Any:
    """Place the decided order and book it; the position's exits rest again afterwards. A
    sell first cancels the resting exits (they reserve the base it sells)."""
    if decision.action == "sell":
        bot_exits_cancel(bot=bot, state=state, open_ms=open_ms)
        if not state.is_open:
            bot_event_record(
                bot=bot, kind=BotEvent.Kind.RISK, message="already exited by its exit orders", candle_open_ms=open_ms
            )
            return None
        if decision.full_exit:
            decision = replace(decision, quantity=state.quantity)
    order = _place(bot=bot, decision=decision, open_ms=open_ms)
    if order is None:
        state.entries = 0  # only dust below one step is left: nothing sellable, treat as flat
        bot_event_record(
            bot=bot, kind=BotEvent.Kind.RISK, message="position below one step: closed", candle_open_ms=open_ms
        )
        return None
    bot_order_book(bot=bot, state=state, order=order, decision=decision, open_ms=open_ms)
    bot_exits_place(bot=bot, state=state, open_ms=open_ms)
    return order


def _place(*, bot: Bot, decision: Decision, open_ms: int) -> Any:
    quantity: Decimal | None = None
    quote_quantity: Decimal | None = None
    if decision.action == "buy":
        quote_quantity = (decision.quote_amount or ZERO).quantize(QUOTE_STEP, rounding=ROUND_DOWN)
    else:
        step = instrument_rules_get(exchange=bot.exchange, symbol=bot.symbol).filters.step_size
        quantity = step_down(decision.quantity or ZERO, step)
        if quantity <= 0:
            return None
    return order_place(
        portfolio=bot.portfolio,
        actor=bot.owner,
        symbol=bot.symbol,
        side=decision.action,
        order_type="market",
        client_order_id=bot_client_order_id(bot_id=bot.pk, candle_open_ms=open_ms),
        source="bot",
        extra={"bot_id": bot.pk, "candle_open_ms": open_ms, "reason": decision.reason[:200], "rule": decision.source},
        quantity=quantity,
        quote_quantity=quote_quantity,
    )


def _evaluation_failed(*, bot_id: int, open_ms: int, reason: str) -> BotCandleRun | None:
    with transaction.atomic():
        bot = Bot.objects.select_for_update().filter(pk=bot_id).first()
        if bot is None:
            return None
        run, _ = BotCandleRun.objects.get_or_create(bot=bot, candle_open_ms=open_ms)
        if run.status == BotCandleRun.Status.DONE:
            return run
        run.status, run.reason = BotCandleRun.Status.ERROR, reason[:500]
        run.save(update_fields=["status", "reason"])
        _bot_errored(bot=bot, reason=reason)
    evaluation_observed("error")
    return run


def _bot_errored(*, bot: Bot, reason: str) -> None:
    bot_status_set(bot=bot, status=Bot.Status.ERROR, reason=reason, kind=BotEvent.Kind.ERROR)
    transaction.on_commit(
        lambda: _alert(kind="bot_error", title=f"Bot {bot.name} paused by an error", reason=reason, bot_id=bot.pk)
    )


def _alert(*, kind: str, title: str, reason: str, bot_id: int) -> None:
    # The bot's status is already recorded; send_robust logs a failing listener and goes on.
    bot_alert.send_robust(sender=Bot, kind=kind, title=title, reason=reason, bot_id=bot_id)
