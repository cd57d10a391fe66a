"""A bot's exits as resting orders (issue 17) and the booking of the bot's own fills.

After each entry the bot rests its configured stop-loss, trailing stop and take-profit
(``apps.bots.risk.exit_orders``) as one order list: the first to trigger cancels the others
(an OCO; three orders when all three are configured). They trigger on trades between closes
in the paper matcher, as on an exchange. At each close the runner books what they filled
(``bot_exits_sync``); a strategy sell first cancels them (``bot_exits_cancel``); a further
entry replaces them for the whole position.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal
from typing import Any

from apps.bots.models import Bot, BotEvent
from apps.bots.risk import BotState, Decision, apply_fill, exit_orders, risk_clean
from apps.bots.services.bots import bot_event_record
from apps.core.formatting import fmt_price, fmt_qty
from apps.portfolio.errors import OrderStateError
from apps.portfolio.fills import step_down
from apps.portfolio.models import Order
from apps.portfolio.services import order_cancel
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.order_lists import Leg, order_list_place

ZERO = Decimal("0")


def bot_exits_place(*, bot: Bot, state: BotState, open_ms: int) -> list[Order]:
    """Rest the exits for the bot's whole position (after its entry was booked), replacing
    any it had. Raises the order service's refusal (the runner pauses the bot with it)."""
    bot_exits_cancel(bot=bot, state=state, open_ms=open_ms)
    if not state.is_open:
        return []
    rules = instrument_rules_get(exchange=bot.exchange, symbol=bot.symbol)
    exits = exit_orders(risk=risk_clean(bot.risk), entry_price=state.entry_price, tick_size=rules.filters.tick_size)
    quantity = step_down(state.quantity, rules.filters.step_size)
    if not exits or quantity <= 0:
        return []
    legs = [
        Leg(
            order_type=exit_.order_type,
            stop_price=exit_.stop_price,
            trailing_delta_bps=exit_.trailing_delta_bps,
            client_order_id=f"bot{bot.pk}-{open_ms}-{exit_.source}",
            extra={"bot_id": bot.pk, "candle_open_ms": open_ms, "reason": exit_.reason, "rule": exit_.source},
        )
        for exit_ in exits
    ]
    orders = order_list_place(
        portfolio=bot.portfolio,
        actor=bot.owner,
        symbol=bot.symbol,
        side="sell",
        quantity=quantity,
        legs=legs,
        source="bot",
    )
    state.exit_order_ids = [order.pk for order in orders]
    summary = ", ".join(f"{o.order_type} {o.stop_price or f'{o.trailing_delta_bps} bps'}" for o in orders)
    bot_event_record(bot=bot, kind=BotEvent.Kind.ORDER, message=f"exits resting: {summary}", candle_open_ms=open_ms)
    return orders


def bot_exits_cancel(*, bot: Bot, state: BotState, open_ms: int) -> None:
    """Cancel the bot's resting exits (canceling one cancels its list), then book whatever
    they filled before the cancel reached the exchange."""
    still_open = Order.objects.filter(pk__in=state.exit_order_ids, status__in=Order.OPEN_STATUSES).first()
    if still_open is not None:
        with suppress(OrderStateError):  # it filled meanwhile: booked below
            order_cancel(order=still_open, actor=bot.owner, source="bot")
    bot_exits_sync(bot=bot, state=state, open_ms=open_ms)


def bot_exits_sync(*, bot: Bot, state: BotState, open_ms: int) -> None:
    """Book the fills of the bot's exits once none of them is open any more (the first to
    trigger canceled the others). While one still fills, the position stays as booked."""
    if not state.exit_order_ids:
        return
    orders = list(Order.objects.filter(pk__in=state.exit_order_ids).order_by("id"))
    if any(order.is_open for order in orders):
        return
    state.exit_order_ids = []
    for order in orders:
        if order.filled_qty > 0:
            rule = str(order.extra.get("rule", order.order_type))
            decision = Decision(
                "sell", str(order.extra.get("reason", rule)), rule, quantity=order.filled_qty, full_exit=True
            )
            last_fill = order.fills.order_by("-id").first()
            at_ms = int(last_fill.created_at.timestamp() * 1000) if last_fill is not None else open_ms
            bot_order_book(bot=bot, state=state, order=order, decision=decision, open_ms=open_ms, trade_ms=at_ms)


def bot_order_book(
    *, bot: Bot, state: BotState, order: Any, decision: Decision, open_ms: int, trade_ms: int | None = None
) -> None:
    """Book one of the bot's orders into its own position and record the event.
    ``trade_ms``: when it filled (an exit fills between closes); the cooldown counts from it."""
    fills = list(order.fills.all())
    qty = sum((f.quantity for f in fills), ZERO)
    quote = sum((f.quote_quantity for f in fills), ZERO)
    fee_base = sum((f.fee for f in fills if f.fee_asset == order.base_asset), ZERO)
    fee_quote = sum((f.fee for f in fills if f.fee_asset == order.quote_asset), ZERO)
    data = {
        "order_id": order.pk,
        "client_order_id": order.client_order_id,
        "side": order.side,
        "status": order.status,
        "quantity": str(qty),
        "quote": str(quote),
        "avg_price": str(order.avg_price) if order.avg_price is not None else None,
        "fee_base": str(fee_base),
        "fee_quote": str(fee_quote),
        "rule": decision.source,
    }
    if qty <= 0:
        bot_event_record(
            bot=bot,
            kind=BotEvent.Kind.ORDER,
            message=f"{order.side} not filled ({order.status})",
            data=data,
            candle_open_ms=open_ms,
        )
        return
    if order.side == "buy":
        base_delta, quote_delta = qty - fee_base, -(quote + fee_quote)
    else:
        base_delta, quote_delta = -(qty + fee_base), quote - fee_quote
    pnl = apply_fill(
        state,
        side=order.side,
        base_delta=base_delta,
        quote_delta=quote_delta,
        open_time_ms=open_ms if trade_ms is None else trade_ms,
        full_exit=decision.full_exit and order.status == "filled",
        price=order.avg_price or quote / qty,
    )
    if order.side == "sell":
        data["pnl"] = str(pnl)
    # For a person: the instrument's step and tick, not the ledger's 18 decimals (data keeps them).
    filters = instrument_rules_get(exchange=bot.exchange, symbol=bot.symbol).filters
    shown = f"{fmt_qty(qty, filters.step_size)} @ {fmt_price(order.avg_price or quote / qty, filters.tick_size)}"
    message = f"{order.side} {shown} ({decision.source}: {decision.reason})"
    bot_event_record(bot=bot, kind=BotEvent.Kind.ORDER, message=message, data=data, candle_open_ms=open_ms)
