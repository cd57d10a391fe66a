"""Backtests from the bot page (a model row with progress, run by a Celery task) and the
paper-versus-backtest reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.bots.backtest import BookWalkFillModel, backtest_run
from apps.bots.models import Backtest, Bot, BotCandleRun
from apps.bots.realtime import backtest_progress_push
from apps.bots.reconcile import LiveRun, TradeLine, reconcile
from apps.bots.risk import RISK_PARAMS, risk_clean
from apps.bots.selectors import bot_exit_fills, bot_run_list, candle_bars
from apps.bots.strategies import (
    ParamsInvalid,
    ParamsRuleBroken,
    params_to_json,
    strategy_build,
    strategy_clean_params,
)
from apps.core.exceptions import ApplicationError, ConflictError, RuleError
from apps.core.money import to_decimal
from apps.market.feeds.symbols import TIMEFRAME_MS
from apps.market.models import Exchange, Instrument, Timeframe
from apps.portfolio.models import Balance
from apps.portfolio.services.execution import fee_schedule

logger = logging.getLogger(__name__)

PROGRESS_STEP = 5  # percent between progress writes: a 100k-candle run does ~20 updates


def _validated(
    *, strategy: str, params: Any, risk: Any, exchange: str, timeframe: str, initial_quote: Any
) -> tuple[dict, dict, Decimal]:
    errors: dict[str, list[str]] = {}
    rules: dict[str, list[str]] = {}  # each value valid alone, a rule between them broken
    clean_params: dict[str, Any] = {}
    clean_risk: dict[str, Any] = {}
    try:
        clean_params = strategy_clean_params(strategy, params)
    except ParamsInvalid as exc:
        found = {(k if k == "strategy" else f"params.{k}"): v for k, v in exc.errors.items()}
        (rules if isinstance(exc, ParamsRuleBroken) else errors).update(found)
    try:
        settings = risk_clean(risk)
        clean_risk = {p.name: getattr(settings, p.name) for p in RISK_PARAMS}
    except ParamsInvalid as exc:
        (rules if isinstance(exc, ParamsRuleBroken) else errors).update({f"risk.{k}": v for k, v in exc.errors.items()})
    if exchange not in Exchange.values:
        errors["exchange"] = [f"Must be one of: {', '.join(Exchange.values)}."]
    if timeframe not in Timeframe.values:
        errors["timeframe"] = [f"Must be one of: {', '.join(Timeframe.values)}."]
    quote = Decimal("0")
    try:
        quote = to_decimal(initial_quote, field="initial_quote")
        if quote <= 0:
            errors["initial_quote"] = ["Must be positive."]
    except ValueError:
        errors["initial_quote"] = ["Must be a decimal number."]
    if errors:
        raise ApplicationError("Invalid backtest.", fields={**errors, **rules})
    if rules:
        raise RuleError("Invalid backtest.", fields=rules)
    return params_to_json(clean_params), params_to_json(clean_risk), quote


def backtest_create(
    *,
    owner: Any,
    strategy: str,
    symbol: str,
    params: Mapping[str, Any] | None = None,
    risk: Mapping[str, Any] | None = None,
    exchange: str = "binance",
    timeframe: str = "1m",
    start_ms: int | None = None,
    end_ms: int | None = None,
    initial_quote: Decimal | str = "10000",
    bot: Bot | None = None,
    enqueue: Callable[[int], object] | None = None,
) -> Backtest:
    """Validate and store a backtest over stored candles. ``enqueue`` (the web passes
    ``backtest_run_task.delay``) is called with its id once the row commits; the task reports
    progress 0-100. Without it the backtest stays pending (run it with ``backtest_execute``)."""
    params_json, risk_json, quote = _validated(
        strategy=strategy, params=params, risk=risk, exchange=exchange, timeframe=timeframe, initial_quote=initial_quote
    )
    backtest = Backtest.objects.create(
        owner=owner, bot=bot, strategy=strategy, params=params_json, risk=risk_json, exchange=exchange,
        symbol=symbol.strip().upper(), timeframe=timeframe, start_ms=start_ms, end_ms=end_ms, initial_quote=quote,
    )  # fmt: skip
    if enqueue is not None:
        transaction.on_commit(lambda: enqueue(backtest.pk))
    return backtest


def backtest_create_for_bot(
    *,
    bot: Bot,
    actor: Any,
    start_ms: int | None = None,
    end_ms: int | None = None,
    initial_quote: Decimal | str | None = None,
    enqueue: Callable[[int], object] | None = None,
) -> Backtest:
    """Backtest the bot's configuration; it starts from what the bot's portfolio holds in its
    quote asset now, unless the caller chooses an amount."""
    if initial_quote is None:
        initial_quote = _portfolio_quote_held(bot=bot)
    return backtest_create(
        owner=bot.owner, strategy=bot.strategy, symbol=bot.symbol, params=bot.params, risk=bot.risk, exchange=bot.exchange,
        timeframe=bot.timeframe, start_ms=start_ms, end_ms=end_ms, initial_quote=initial_quote, bot=bot, enqueue=enqueue,
    )  # fmt: skip


def _portfolio_quote_held(*, bot: Bot) -> Decimal:
    balance = Balance.objects.filter(portfolio_id=bot.portfolio_id, asset=bot.portfolio.quote_asset).first()
    held = balance.total if balance is not None else Decimal(0)
    if held <= 0:
        raise ConflictError(
            f"The bot's portfolio holds no {bot.portfolio.quote_asset}: choose a starting amount.",
            fields={"initial_quote": [f"The portfolio holds no {bot.portfolio.quote_asset}; enter an amount."]},
        )
    return held


def _fill_model_for(bot: Bot | None, symbol: str, exchange: str) -> BookWalkFillModel:
    """The bot's portfolio fees and slippage cap, and the instrument's step, when known."""
    kwargs: dict[str, Any] = {"exchange": exchange, "symbol": symbol}
    if bot is not None:
        kwargs["fees"] = fee_schedule(bot.portfolio)
        kwargs["max_slippage_bps"] = bot.portfolio.max_slippage_bps
    step = Instrument.objects.filter(exchange=exchange, symbol=symbol).values_list("step_size", flat=True).first()
    if step:
        kwargs["step_size"] = step
    return BookWalkFillModel(**kwargs)


def _progress_writer(backtest: Backtest) -> Any:
    last = {"value": -PROGRESS_STEP}

    def write(value: int) -> None:
        if value - last["value"] < PROGRESS_STEP and value != 100:
            return
        last["value"] = value
        Backtest.objects.filter(pk=backtest.pk).update(progress=value)
        backtest.progress = value
        backtest_progress_push(backtest=backtest)

    return write


def backtest_execute(*, backtest: Backtest) -> Backtest:
    """Run a queued backtest (the Celery task calls this). Errors end in status error, shown."""
    Backtest.objects.filter(pk=backtest.pk).update(status=Backtest.Status.RUNNING, progress=0)
    backtest.status = Backtest.Status.RUNNING
    try:
        timeframe_ms = TIMEFRAME_MS[backtest.timeframe]
        warmup = strategy_build(backtest.strategy, backtest.params, timeframe_ms=timeframe_ms).warmup
        start = backtest.start_ms - warmup * timeframe_ms if backtest.start_ms is not None else None
        bars = candle_bars(
            exchange=backtest.exchange,
            symbol=backtest.symbol,
            timeframe=backtest.timeframe,
            start_ms=start,
            end_ms=backtest.end_ms,
        )
        if not bars:
            raise ApplicationError("No stored candles in this range.", code="no_candles")
        report = backtest_run(
            strategy=backtest.strategy,
            params=backtest.params,
            bars=bars,
            risk=backtest.risk,
            initial_quote=backtest.initial_quote,
            fill_model=_fill_model_for(backtest.bot, backtest.symbol, backtest.exchange),
            timeframe_ms=timeframe_ms,
            progress=_progress_writer(backtest),
            trade_from_ms=backtest.start_ms,
        )
    except Exception as error:
        logger.exception("backtest %s failed", backtest.pk)
        backtest.status, backtest.error = Backtest.Status.ERROR, f"{type(error).__name__}: {error}"
        backtest.finished_at = timezone.now()
        backtest.save(update_fields=["status", "error", "finished_at", "updated_at"])
        backtest_progress_push(backtest=backtest)
        return backtest
    backtest.report = report.to_json()
    backtest.trade_hash = report.trade_hash
    backtest.status, backtest.progress, backtest.finished_at = Backtest.Status.DONE, 100, timezone.now()
    backtest.save(update_fields=["report", "trade_hash", "status", "progress", "finished_at", "updated_at"])
    backtest_progress_push(backtest=backtest)
    return backtest


def _live_trades(runs: list[BotCandleRun]) -> list[TradeLine]:
    lines = []
    for run in runs:
        order = run.order
        if order is None or not order.filled_qty:
            continue
        lines.append(
            TradeLine(
                run.candle_open_ms,
                order.side,
                order.filled_qty,
                order.avg_price or Decimal("0"),
                order.fees_paid,
                run.reason,
            )
        )
    return lines


def bot_reconcile(
    *, bot: Bot, start_ms: int | None = None, end_ms: int | None = None, initial_quote: Decimal | None = None
) -> dict[str, Any]:
    """Re-run the bot's live paper window through the backtester and list where the trades
    differ and why. The window defaults to the bot's whole evaluated history (it starts flat).
    Live trades: the candle runs' orders and the exits' fills (by the candle they filled in)."""
    runs = list(bot_run_list(bot=bot, start_ms=start_ms, end_ms=end_ms))
    if not runs:
        raise ApplicationError("This bot has not evaluated any candle in the window yet.", code="no_runs")
    start, end = runs[0].candle_open_ms, runs[-1].candle_open_ms
    timeframe_ms = TIMEFRAME_MS[bot.timeframe]
    warmup = strategy_build(bot.strategy, bot.params, timeframe_ms=timeframe_ms).warmup
    bars = candle_bars(
        exchange=bot.exchange,
        symbol=bot.symbol,
        timeframe=bot.timeframe,
        start_ms=start - warmup * timeframe_ms,
        end_ms=end,
    )
    quote = initial_quote or to_decimal(str(bot.portfolio.starting_balances.get(bot.portfolio.quote_asset, "10000")))
    report = backtest_run(
        strategy=bot.strategy,
        params=bot.params,
        bars=bars,
        risk=bot.risk,
        initial_quote=quote,
        fill_model=_fill_model_for(bot, bot.symbol, bot.exchange),
        timeframe_ms=timeframe_ms,
        trade_from_ms=start,
    )
    exits = [
        TradeLine(ms, o.side, o.filled_qty, o.avg_price or Decimal("0"), o.fees_paid, str(o.extra.get("reason", "")))
        for ms, o in bot_exit_fills(bot=bot, timeframe_ms=timeframe_ms)
        if start <= ms <= end
    ]
    result = reconcile(
        live=_live_trades(runs) + exits,
        backtest=[TradeLine(t.open_time_ms, t.side, t.quantity, t.price, t.fee, t.reason) for t in report.trades],
        runs={r.candle_open_ms: LiveRun(r.action, r.reason, r.status == BotCandleRun.Status.ERROR) for r in runs},
        candles=[b.open_time_ms for b in bars],
    )
    result["window"] = {"start_ms": start, "end_ms": end, "candles": sum(1 for b in bars if b.open_time_ms >= start)}
    result["backtest_trade_hash"] = report.trade_hash
    return result
