"""Bot configuration and lifecycle: create, update, start, pause, stop."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from apps.bots.metrics import bots_gauges_refresh
from apps.bots.models import Bot, BotEvent
from apps.bots.realtime import bot_event_push
from apps.bots.risk import RISK_PARAMS, risk_clean
from apps.bots.strategies import ParamsInvalid, ParamsRuleBroken, params_to_json, strategy_clean_params
from apps.core.exceptions import ApplicationError, ConflictError, RuleError
from apps.market.models import Exchange, Timeframe
from apps.market.selectors import candle_last_open_map
from apps.safety.audit import audit_record

logger = logging.getLogger(__name__)

# Changing these under a running bot would mix two strategies' state: pause first.
_RUNNING_LOCKED = ("strategy", "symbol", "timeframe", "portfolio")
_EDITABLE = ("name", "symbol", "timeframe", "strategy", "params", "risk", "portfolio")


def _prefixed(prefix: str, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {(f"{prefix}.{k}" if k != "strategy" else k): v for k, v in errors.items()}


def bot_validate(
    *,
    owner: Any,
    portfolio: Any,
    name: str,
    exchange: str,
    symbol: str,
    timeframe: str,
    strategy: str,
    params: Any,
    risk: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a bot's configuration; return JSON-ready (params, risk) or raise
    ApplicationError whose ``fields`` name every bad input (``params.<name>``, ``risk.<name>``)."""
    errors: dict[str, list[str]] = {}
    rules: dict[str, list[str]] = {}  # each value valid alone, a rule between them broken
    if not (name or "").strip():
        errors["name"] = ["This field is required."]
    if portfolio is None or getattr(portfolio, "owner_id", None) != getattr(owner, "pk", None):
        errors["portfolio"] = ["Choose one of your portfolios."]
    elif exchange != portfolio.exchange:
        errors["exchange"] = [f"The portfolio trades on {portfolio.exchange}."]
    if exchange not in Exchange.values:
        errors["exchange"] = [f"Must be one of: {', '.join(Exchange.values)}."]
    if not (symbol or "").strip().isalnum():
        errors["symbol"] = ["Use the neutral symbol form, e.g. BTCUSDT."]
    if timeframe not in Timeframe.values:
        errors["timeframe"] = [f"Must be one of: {', '.join(Timeframe.values)}."]
    clean_params: dict[str, Any] = {}
    try:
        clean_params = strategy_clean_params(strategy, params if isinstance(params, Mapping) else None)
        if params is not None and not isinstance(params, Mapping):
            errors["params"] = ["Must be an object."]
    except ParamsInvalid as exc:
        (rules if isinstance(exc, ParamsRuleBroken) else errors).update(_prefixed("params", exc.errors))
    clean_risk: dict[str, Any] = {}
    try:
        settings = risk_clean(risk if isinstance(risk, Mapping) else None)
        clean_risk = {p.name: getattr(settings, p.name) for p in RISK_PARAMS}
        if risk is not None and not isinstance(risk, Mapping):
            errors["risk"] = ["Must be an object."]
        if settings.trailing_stop_pct and exchange == Exchange.KUCOIN:
            # The trailing exit is a resting trailing-stop order, which KuCoin spot does not have.
            rules["risk.trailing_stop_pct"] = ["KuCoin has no trailing-stop orders; use a stop-loss."]
    except ParamsInvalid as exc:
        (rules if isinstance(exc, ParamsRuleBroken) else errors).update(_prefixed("risk", exc.errors))
    if errors:
        raise ApplicationError("Invalid bot configuration.", code="invalid", fields={**errors, **rules})
    if rules:
        raise RuleError("Invalid bot configuration.", code="invalid", fields=rules)
    return params_to_json(clean_params), params_to_json(clean_risk)


def bot_event_record(
    *, bot: Bot, kind: str, message: str, data: dict[str, Any] | None = None, candle_open_ms: int | None = None
) -> BotEvent:
    event = BotEvent.objects.create(
        bot=bot, kind=kind, message=message[:500], data=data or {}, candle_open_ms=candle_open_ms
    )
    bot_event_push(bot=bot, event=event)
    return event


def bot_create(
    *,
    owner: Any,
    portfolio: Any,
    name: str,
    symbol: str,
    strategy: str,
    params: Mapping[str, Any] | None = None,
    risk: Mapping[str, Any] | None = None,
    timeframe: str = "1m",
    exchange: str | None = None,
) -> Bot:
    """Create a stopped bot. Invalid input raises ApplicationError with field errors; nothing is saved."""
    exchange = exchange or (portfolio.exchange if portfolio is not None else "")
    symbol = (symbol or "").strip().upper()
    params_json, risk_json = bot_validate(
        owner=owner, portfolio=portfolio, name=name, exchange=exchange, symbol=symbol,
        timeframe=timeframe, strategy=strategy, params=params, risk=risk,
    )  # fmt: skip
    if Bot.objects.filter(owner=owner, name=name.strip()).exists():
        raise ConflictError("Invalid bot configuration.", fields={"name": ["You already have a bot with this name."]})
    with transaction.atomic():
        bot = Bot.objects.create(
            owner=owner, portfolio=portfolio, name=name.strip(), exchange=exchange, symbol=symbol,
            timeframe=timeframe, strategy=strategy, params=params_json, risk=risk_json, status=Bot.Status.STOPPED,
        )  # fmt: skip
        bot_event_record(bot=bot, kind=BotEvent.Kind.STATE, message="created (stopped)")
        _audit(
            bot=bot,
            actor=owner,
            action="bot.create",
            message=f"bot {bot.name}: {strategy} {exchange}:{symbol} {timeframe}",
        )
    return bot


def bot_update(*, bot: Bot, actor: Any, data: Mapping[str, Any]) -> Bot:
    """Change configuration. Validated as a whole; on any error nothing is saved."""
    unknown = sorted(set(data) - set(_EDITABLE))
    if unknown:
        raise ApplicationError("Invalid bot configuration.", fields={k: ["Cannot be changed."] for k in unknown})
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        changed = [k for k in data if k in _RUNNING_LOCKED and data[k] != getattr(locked, k)]
        if locked.status == Bot.Status.RUNNING and changed:
            raise ConflictError(
                "Pause the bot before changing its strategy, symbol, timeframe or portfolio.", code="bot_running"
            )
        merged = {k: getattr(locked, k) for k in _EDITABLE} | dict(data)
        if "strategy" in data and data["strategy"] != locked.strategy and "params" not in data:
            merged["params"] = {}  # the old strategy's params mean nothing to the new one
        merged["symbol"] = str(merged["symbol"] or "").strip().upper()
        params_json, risk_json = bot_validate(owner=locked.owner, exchange=locked.exchange, **merged)
        if Bot.objects.filter(owner=locked.owner, name=str(merged["name"]).strip()).exclude(pk=locked.pk).exists():
            raise ConflictError(
                "Invalid bot configuration.", fields={"name": ["You already have a bot with this name."]}
            )
        for key in _EDITABLE:
            setattr(locked, key, merged[key])
        locked.name = str(merged["name"]).strip()
        locked.params, locked.risk = params_json, risk_json
        locked.save()
        bot_event_record(
            bot=locked, kind=BotEvent.Kind.STATE, message=f"configuration changed: {', '.join(sorted(data))}"
        )
        _audit(
            bot=locked,
            actor=actor,
            action="bot.update",
            message=f"bot {locked.name} updated",
            data={"changed": sorted(data)},
        )
    return locked


def _audit(*, bot: Bot, actor: Any, action: str, message: str, data: dict[str, Any] | None = None) -> None:
    audit_record(
        category="bot",
        action=action,
        actor=actor,
        actor_label="" if getattr(actor, "is_authenticated", False) else f"bot:{bot.pk}",
        portfolio_id=bot.portfolio_id,
        exchange=bot.exchange,
        symbol=bot.symbol,
        message=message,
        data={"bot_id": bot.pk, **(data or {})},
    )


def bot_status_set(
    *, bot: Bot, status: str, reason: str = "", actor: Any = None, kind: str = BotEvent.Kind.STATE
) -> Bot:
    """Record a status change on an already locked bot row (inside the caller's transaction)."""
    previous = bot.status
    bot.status = status
    bot.status_reason = reason[:500]
    fields = ["status", "status_reason", "updated_at"]
    if status == Bot.Status.RUNNING and previous != Bot.Status.RUNNING:
        # A bot evaluates the closes from now on: what closed while it was not running is
        # settled, so the runner's catch-up after an outage never replays a paused period.
        stored = candle_last_open_map(exchange=bot.exchange, symbols=[bot.symbol])
        newest = stored.get((bot.symbol, bot.timeframe))
        if newest is not None and (bot.last_candle_ms is None or newest > bot.last_candle_ms):
            bot.last_candle_ms = newest
            fields.append("last_candle_ms")
    bot.save(update_fields=fields)
    message = f"{previous} -> {status}" + (f": {reason}" if reason else "")
    bot_event_record(bot=bot, kind=kind, message=message, data={"from": previous, "to": status, "reason": reason})
    _audit(bot=bot, actor=actor, action=f"bot.{status}", message=message)
    transaction.on_commit(bots_gauges_refresh)
    return bot


def _transition(*, bot: Bot, actor: Any, status: str, allowed_from: tuple[str, ...], reason: str = "") -> Bot:
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status == status:
            return locked
        if locked.status not in allowed_from:
            raise ConflictError(f"A {locked.status} bot cannot become {status}.", code="bot_state")
        return bot_status_set(bot=locked, status=status, reason=reason, actor=actor)


def bot_start(*, bot: Bot, actor: Any) -> Bot:
    """Run (or resume) the bot: it evaluates every closed candle from now on. Also clears an error."""
    bot_validate(
        owner=bot.owner, portfolio=bot.portfolio, name=bot.name, exchange=bot.exchange, symbol=bot.symbol,
        timeframe=bot.timeframe, strategy=bot.strategy, params=bot.params, risk=bot.risk,
    )  # fmt: skip
    allowed = (Bot.Status.STOPPED, Bot.Status.PAUSED, Bot.Status.ERROR)
    return _transition(bot=bot, actor=actor, status=Bot.Status.RUNNING, allowed_from=allowed)


def bot_pause(*, bot: Bot, actor: Any, reason: str = "") -> Bot:
    return _transition(
        bot=bot, actor=actor, status=Bot.Status.PAUSED, allowed_from=(Bot.Status.RUNNING,), reason=reason
    )


def bot_stop(*, bot: Bot, actor: Any, reason: str = "") -> Bot:
    allowed = (Bot.Status.RUNNING, Bot.Status.PAUSED, Bot.Status.ERROR)
    return _transition(bot=bot, actor=actor, status=Bot.Status.STOPPED, allowed_from=allowed, reason=reason)


def bot_delete(*, bot: Bot, actor: Any) -> None:
    """Delete a bot with its event log (its orders and fills stay in the portfolio's
    history). Refused (409) while it runs: stop it first, so no candle is mid-evaluation."""
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        if locked.status == Bot.Status.RUNNING:
            raise ConflictError("Stop the bot before deleting it.", code="bot_running")
        _audit(bot=locked, actor=actor, action="bot.delete", message=f"deleted bot {locked.name}")
        locked.delete()
    transaction.on_commit(bots_gauges_refresh)
