"""Order lists: OCO (one-cancels-the-other), as on Binance (``POST /api/v3/orderList/oco``).

An OCO links two orders of one side and quantity: for a sell, an order above the market (a
limit or a take-profit) and one below it (a stop-loss, stop-limit or trailing stop); a buy is
the mirror image. The list reserves its funds once: its first order holds the reserve for
both (at least what either needs), the other reserves nothing. When either order triggers or
first fills (a partial fill counts, as on Binance), the other is canceled in the same
transaction and, if it held the reserve, hands it over. Canceling either cancels the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.money import to_decimal
from apps.portfolio import books, rules
from apps.portfolio import resting_rules as rr
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.models import Order, OrderList, Portfolio
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import after_commit, release_funds
from apps.portfolio.services.ledger import Posting, balances_lock

# Which leg types may sit on which side of the market (Binance's aboveType / belowType).
LIMIT_LEGS = frozenset({"limit", "take_profit", "take_profit_limit"})
STOP_LEGS = frozenset({"stop_loss", "stop_loss_limit", "trailing_stop"})


@dataclass(frozen=True, slots=True)
class Leg:
    """One order of a list: its type and prices (side and quantity are the list's)."""

    order_type: str
    price: Decimal | str | None = None
    stop_price: Decimal | str | None = None
    trailing_delta_bps: int | None = None
    client_order_id: str | None = None
    extra: dict[str, Any] | None = None


def _legs_check(*, exchange: str, side: str, above: Leg, below: Leg) -> None:
    wanted_above, wanted_below = (LIMIT_LEGS, STOP_LEGS) if side == "sell" else (STOP_LEGS, LIMIT_LEGS)
    for name, leg, allowed in (("above", above, wanted_above), ("below", below, wanted_below)):
        if leg.order_type not in allowed:
            message = f"Invalid {name}Type for a {side} OCO." if exchange != "kucoin" else "Parameter Error: type"
            raise OrderRejectedError(
                message,
                code="-1116" if exchange != "kucoin" else "400100",
                exchange=exchange,
                fields={f"{name}.type": [message]},
            )


def oco_place(
    *,
    portfolio: Portfolio,
    actor: Any,
    symbol: str,
    side: str,
    quantity: Decimal | str,
    above: Leg,
    below: Leg,
    client_order_id: str | None = None,
    source: str = "api",
    source_ip: str | None = None,
) -> OrderList:
    """Place an OCO: both orders and the list in one transaction (all or nothing).
    ``client_order_id`` names the list: its orders get ``<id>-a`` (above) and ``<id>-b`` (below)."""
    if side not in ("buy", "sell"):
        raise rules.reject_param(portfolio.exchange, "side")
    _legs_check(exchange=portfolio.exchange, side=side, above=above, below=below)
    if client_order_id:
        above = replace(above, client_order_id=f"{client_order_id}-a")
        below = replace(below, client_order_id=f"{client_order_id}-b")
    # A limit leg goes first and holds the reserve: a limit that fills at once on arrival pays
    # from its own reserve (and then the other order is not placed).
    legs = [below, above] if below.order_type == "limit" else [above, below]
    orders = order_list_place(
        portfolio=portfolio,
        actor=actor,
        symbol=symbol,
        side=side,
        quantity=quantity,
        legs=legs,
        source=source,
        source_ip=source_ip,
    )
    return OrderList.objects.get(orders=orders[0])


def order_list_place(
    *,
    portfolio: Portfolio,
    actor: Any,
    symbol: str,
    side: str,
    quantity: Decimal | str,
    legs: Sequence[Leg],
    source: str = "api",
    source_ip: str | None = None,
) -> list[Order]:
    """Place orders of one side and quantity linked as one-cancels-the-others, in one
    transaction (all or nothing); each through ``order_place`` (safety guard, exchange
    filters, audit). The first holds the list's reserve. One leg: a plain order, no list.
    The API offers two-order OCOs (``oco_place``); a bot links up to three exits."""
    from apps.portfolio.services.order_arrival import ListReserve, reserve_need
    from apps.portfolio.services.orders import order_place

    common: dict[str, Any] = {
        "portfolio": portfolio,
        "actor": actor,
        "symbol": symbol,
        "side": side,
        "quantity": quantity,
        "source": source,
        "source_ip": source_ip,
    }

    def leg_place(leg: Leg, *, list_id: int | None, reserve: ListReserve) -> Order:
        return order_place(
            **common,
            order_type=leg.order_type,
            price=leg.price,
            stop_price=leg.stop_price,
            trailing_delta_bps=leg.trailing_delta_bps,
            client_order_id=leg.client_order_id,
            extra={**(leg.extra or {}), **({"order_list_id": list_id} if list_id else {})},
            order_list_id=list_id,
            list_reserve=reserve,
        )

    if len(legs) == 1:
        return [leg_place(legs[0], list_id=None, reserve=ListReserve())]
    with transaction.atomic():
        list_id = OrderList.objects.create(portfolio=portfolio, symbol=symbol.upper(), source=source[:32]).pk
        floor = max(
            _leg_need(portfolio=portfolio, symbol=symbol, side=side, quantity=quantity, leg=leg, need=reserve_need)
            for leg in legs[1:]
        )
        placed = [leg_place(legs[0], list_id=list_id, reserve=ListReserve(floor=floor))]
        if placed[0].order_list_id != list_id:
            # An idempotent repeat (same client order ids): the earlier list is the answer.
            OrderList.objects.filter(pk=list_id).delete()
            return list(Order.objects.filter(order_list_id=placed[0].order_list_id).order_by("id"))
        for leg in legs[1:]:
            if not (placed[0].is_open and placed[0].filled_qty == 0):
                break  # the first filled on arrival: the list is done
            placed.append(leg_place(leg, list_id=list_id, reserve=ListReserve(shared=True)))
    return placed


def _leg_need(*, portfolio: Portfolio, symbol: str, side: str, quantity: Decimal | str, leg: Leg, need: Any) -> Decimal:
    """What the second order would reserve on its own (the first reserves at least that)."""
    if side == "sell":
        return Decimal("0")  # both sell the same quantity: the first order's own reserve
    probe = Order(
        side=side,
        order_type=leg.order_type,
        quantity=_decimal(quantity),
        price=_decimal(leg.price),
        stop_price=_decimal(leg.stop_price),
        trailing_delta_bps=leg.trailing_delta_bps,
        trail_best=books.last_price(exchange=portfolio.exchange, symbol=symbol.upper()),
    )
    spec = rr.ExitSpec(leg.order_type, side, probe.stop_price, leg.trailing_delta_bps)
    if probe.quantity is None or (probe.price is None and rr.trigger_level(spec, best_price=probe.trail_best) is None):
        return Decimal("0")  # malformed or nothing to trail yet: its own placement refuses it
    return need(order=probe, max_slippage_bps=portfolio.max_slippage_bps)[1]


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value in (None, "") else to_decimal(value, field="value")
    except ValueError:
        return None  # the order service rejects it with the exchange's code


def order_list_settle(*, order: Order, why: str) -> list[Order]:
    """``order`` (locked, in the caller's transaction) just triggered or first filled: cancel
    the other open orders of its list. A reserve they hold moves to ``order`` (no ledger
    movement: the funds stay locked, for the order that will now use them)."""
    others = list(
        Order.objects.select_for_update()
        .filter(order_list_id=order.order_list_id, status__in=Order.OPEN_STATUSES)
        .exclude(pk=order.pk)
    )
    rows = AuditBatch(actor=None, actor_label="matcher")
    for other in others:
        if other.locked_amount > 0 and order.locked_amount == 0:
            order.locked_asset, order.locked_amount = other.locked_asset, other.locked_amount
            other.locked_amount = Decimal("0")
        _cancel_member(order=other, posting=None, reason=f"OCO: order #{order.pk} {why}")
        rows.add(
            category="order",
            action="order.cancel",
            portfolio_id=other.portfolio_id,
            exchange=other.exchange,
            symbol=other.symbol,
            message=f"cancel #{other.pk}: {other.reason}",
            data={"order_id": other.pk, "order_list_id": other.order_list_id, "by_order_id": order.pk},
        )
    rows.flush()
    return others


def order_list_cancel_rest(*, order: Order, posting: Posting, audit: AuditBatch) -> list[Order]:
    """``order`` is being canceled (caller holds the locks): cancel the rest of its list and
    release what they reserve. Their journals and audit rows are written here, each naming
    its own order (the caller's batch writes everything it holds under its one order); the
    balances are the caller's, so its own release afterwards sees theirs."""
    others = list(
        Order.objects.select_for_update()
        .filter(order_list_id=order.order_list_id, status__in=Order.OPEN_STATUSES)
        .exclude(pk=order.pk)
    )
    own = Posting(portfolio=posting.portfolio, balances=posting.balances)
    rows = AuditBatch(actor=audit.user, actor_label=audit.actor_label, source_ip=audit.source_ip)
    for other in others:
        _cancel_member(order=other, posting=own, reason=f"OCO: order #{order.pk} canceled")
        rows.add(
            category="order",
            action="order.cancel",
            portfolio_id=other.portfolio_id,
            exchange=other.exchange,
            symbol=other.symbol,
            message=f"cancel #{other.pk} (its list)",
            data={"order_id": other.pk, "order_list_id": other.order_list_id},
        )
    own.flush()
    rows.flush()
    return others


def _cancel_member(*, order: Order, posting: Posting | None, reason: str) -> None:
    if order.locked_amount > 0:
        if posting is None:
            portfolio = Portfolio.objects.get(pk=order.portfolio_id)
            posting = Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio))
            release_funds(posting=posting, order=order, memo="OCO sibling canceled")
            posting.flush()
        else:
            release_funds(posting=posting, order=order, memo="OCO sibling canceled")
    order.status = Order.Status.CANCELED
    order.reason = reason[:200]
    order.save(update_fields=["status", "reason", "locked_amount", "updated_at"])
    after_commit(order=order, event="cancel", fills=[])
