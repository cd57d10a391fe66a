"""Applying the fill engine's decisions: fills, ledger, position, order state, equity, audit.

Shared by order placement and the matcher. Callers hold the portfolio row lock (which
serialises every write to one portfolio) and the balance row locks, inside one transaction.
Work is collected in memory (``OrderWork``) and written with a handful of bulk statements
at the end: the hot path pays per statement, not per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.portfolio import fills as engine
from apps.portfolio import resting_index
from apps.portfolio.models import EquitySnapshot, Fill, Order, Portfolio, Position
from apps.portfolio.pnl import PositionState, position_apply_fill
from apps.portfolio.services import fastpath
from apps.portfolio.services.auditing import AuditBatch, audit_logged
from apps.portfolio.services.ledger import FREE, LOCKED, Posting

ZERO = Decimal("0")
MARKET, FEES = "market", "fees"


@dataclass(slots=True)
class OrderWork:
    """Everything one order event will write, flushed by ``order_work_flush``."""

    portfolio: Portfolio
    order: Order
    posting: Posting
    audit: AuditBatch
    fills: list[Fill] = field(default_factory=list)
    position: Position | None = None
    # Set when the caller already read this symbol's position (None then means "no row yet").
    known_position: Position | None = None
    position_known: bool = False


def fee_schedule(portfolio: Portfolio) -> engine.FeeSchedule:
    return engine.fee_schedule_for(
        exchange=portfolio.exchange,
        maker_rate=portfolio.maker_fee_rate,
        taker_rate=portfolio.taker_fee_rate,
        use_discount=portfolio.fee_discount,
    )


def remaining_qty(order: Order) -> Decimal | None:
    return None if order.quantity is None else order.quantity - order.filled_qty


def lock_funds(*, posting: Posting, order: Order, asset: str, amount: Decimal) -> None:
    posting.post(kind="lock", order=order, moves=[(asset, FREE, -amount), (asset, LOCKED, amount)], memo="order lock")
    order.locked_asset = asset
    order.locked_amount += engine.q18(amount)


def release_funds(*, posting: Posting, order: Order, memo: str) -> None:
    amount = order.locked_amount
    if amount > 0:
        asset = order.locked_asset
        posting.post(kind="release", order=order, moves=[(asset, LOCKED, -amount), (asset, FREE, amount)], memo=memo)
    order.locked_amount = ZERO


def apply_execution(*, work: OrderWork, execution: engine.Execution) -> None:
    """Book every slice in memory: one balanced journal and one Fill each, order totals, position."""
    order = work.order
    schedule = fee_schedule(work.portfolio)
    new: list[Fill] = []
    for part in execution.slices:
        quote = part.quote
        fee = schedule.fee(side=order.side, quantity=part.quantity, quote=quote, liquidity=part.liquidity)
        _post_fill(posting=work.posting, order=order, qty=part.quantity, quote=quote, fee=fee)
        new.append(_fill_row(order=order, part=part, quote=quote, fee=fee, mid=execution.arrival_mid))
        order.filled_qty += part.quantity
        order.filled_quote += quote
        order.fees_paid += fee
    if not new:
        return
    work.fills += new
    order.avg_price = engine.q18(order.filled_quote / order.filled_qty)
    if order.arrival_mid is None:
        order.arrival_mid = execution.arrival_mid
    position = work.position
    if position is None and work.position_known:
        position = work.known_position or Position(
            portfolio=order.portfolio, symbol=order.symbol, base_asset=order.base_asset
        )
    work.position = _position_apply(order=order, fills=new, position=position)


def _fill_row(*, order: Order, part: engine.FillSlice, quote: Decimal, fee: Decimal, mid: Decimal | None) -> Fill:
    return Fill(
        order=order,
        portfolio=order.portfolio,
        symbol=order.symbol,
        side=order.side,
        price=part.price,
        quantity=part.quantity,
        quote_quantity=quote,
        fee=fee,
        fee_asset=order.base_asset if order.side == "buy" else order.quote_asset,
        liquidity=part.liquidity,
        arrival_mid=mid,
        slippage_bps=engine.slippage_bps(side=order.side, price=part.price, mid=mid) if mid else None,
        rule=part.rule,
        trade_id=part.trade_id,
    )


def _post_fill(*, posting: Posting, order: Order, qty: Decimal, quote: Decimal, fee: Decimal) -> None:
    # A resting order pays from what it reserved; a market order, which never rests and so
    # reserves nothing (its balance was checked under the portfolio lock), pays from free.
    source = LOCKED if order.locked_asset else FREE
    base, quote_asset = order.base_asset, order.quote_asset
    if order.side == "buy":
        moves = [
            (quote_asset, source, -quote),
            (quote_asset, MARKET, quote),
            (base, MARKET, -qty),
            (base, FREE, qty - fee),
            (base, FEES, fee),
        ]
        spent = quote
    else:
        moves = [
            (base, source, -qty),
            (base, MARKET, qty),
            (quote_asset, MARKET, -quote),
            (quote_asset, FREE, quote - fee),
            (quote_asset, FEES, fee),
        ]
        spent = qty
    if source == LOCKED:
        order.locked_amount -= spent
    posting.post(kind="fill", order=order, moves=moves, memo=f"fill {order.side} {qty} {order.symbol}")


def _position_apply(*, order: Order, fills: list[Fill], position: Position | None) -> Position:
    if position is None:
        # No row lock needed: the portfolio row lock already serialises this portfolio.
        position = Position.objects.filter(portfolio=order.portfolio, symbol=order.symbol).first()
    if position is None:
        position = Position(portfolio=order.portfolio, symbol=order.symbol, base_asset=order.base_asset)
    state = PositionState(**{name: getattr(position, name) for name in PositionState.__slots__})
    for fill in fills:
        state = position_apply_fill(
            state,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            fee_in_base=fill.side == "buy",
        )
    for name in PositionState.__slots__:
        value = getattr(state, name)
        setattr(position, name, engine.q18(value) if isinstance(value, Decimal) else value)
    return position


def status_after(order: Order, *, exhausted: bool) -> str:
    """Filled when nothing is left; otherwise partially filled or new (it keeps resting)."""
    left = remaining_qty(order)
    if (left is not None and left <= 0) or (left is None and not exhausted):
        return Order.Status.FILLED
    return Order.Status.PARTIALLY_FILLED if order.filled_qty > 0 else Order.Status.NEW


def order_work_flush(*, work: OrderWork, event: str, audit_order: dict[str, Any] | None = None) -> None:
    """Write one order event now: order, fills, ledger, balances, position, equity, audit;
    the pushes are scheduled for after commit. (Order placement writes whole batches of
    events at once: ``order_work_prepare`` + ``fastpath.work_write``.)"""
    if fastpath.enabled():
        write_set = order_work_prepare(work=work, event=event, audit_order=audit_order)
        fastpath.work_write(
            rows=[write_set],
            balances=work.posting.dirty_balances(),
            positions=[work.position] if work.position is not None else [],
        )
        work.posting.mark_clean()
        write_set_logged(write_set)
    else:
        after_commit(order=work.order, event=event, fills=work.fills)
        _flush_orm(work=work, audit_order=audit_order)


def order_work_prepare(*, work: OrderWork, event: str, audit_order: dict[str, Any] | None) -> fastpath.WriteSet:
    """Postgres: the event's own rows for ``fastpath.work_write``, valued now (the equity
    snapshot reads the balances as this event left them); pushes scheduled after commit.
    Balances and position stay in memory: the caller writes their final state once."""
    after_commit(order=work.order, event=event, fills=work.fills)
    snapshot = _equity_from_memory(work) if work.fills else None
    # Events the caller added already (e.g. a downtime replay's) are about the order.
    order_events, work.audit.events = work.audit.events, []
    if audit_order is not None:
        _audit_order_add(work=work, audit_order=audit_order)
        order_events.insert(0, work.audit.events.pop())
    for fill in work.fills:
        _audit_fill_add(work=work, fill=fill)
    fill_events, work.audit.events = work.audit.events, []
    journals, work.posting.journals = work.posting.journals, []
    return fastpath.WriteSet(
        order=work.order,
        order_audits=order_events,
        fills=work.fills,
        fill_audits=fill_events,
        journals=journals,
        snapshot=snapshot,
    )


def write_set_logged(write_set: fastpath.WriteSet) -> None:
    """The audit log lines, once the rows are written."""
    for event in (*write_set.order_audits, *write_set.fill_audits):
        audit_logged(event)


def _flush_orm(*, work: OrderWork, audit_order: dict[str, Any] | None) -> None:
    order = work.order
    order.save()
    if work.fills:
        Fill.objects.bulk_create(work.fills)
    work.posting.flush()
    if work.position is not None:
        work.position.save()
    if work.fills:
        _equity_from_memory(work).save()
    if audit_order is not None:
        _audit_order_add(work=work, audit_order=audit_order)
    for fill in work.fills:
        _audit_fill_add(work=work, fill=fill)
    work.audit.flush()


def _audit_order_add(*, work: OrderWork, audit_order: dict[str, Any]) -> None:
    fields = {k: v for k, v in audit_order.items() if k != "data"}
    work.audit.add(**fields, data={**audit_order.get("data", {}), "order_id": work.order.pk})


def _audit_fill_add(*, work: OrderWork, fill: Fill) -> None:
    order = work.order
    work.audit.add(
        category="fill",
        action="fill",
        portfolio_id=order.portfolio_id,
        exchange=order.exchange,
        symbol=order.symbol,
        message=f"{order.side} {fill.quantity} @ {fill.price} ({fill.liquidity}, {fill.rule})",
        data={
            "order_id": order.pk,
            "fill_id": fill.pk,
            "fee": str(fill.fee),
            "slippage_bps": str(fill.slippage_bps),
        },
    )


def _equity_from_memory(work: OrderWork) -> EquitySnapshot:
    """The per-fill snapshot (unsaved), valued from the balances and position in memory."""
    from apps.portfolio.selectors import equity_value_from

    positions = {work.position.symbol: work.position} if work.position is not None else {}
    value = equity_value_from(
        portfolio=work.portfolio, balances=list(work.posting.balances.values()), positions=positions
    )
    return _snapshot_row(portfolio=work.portfolio, value=value, reason=EquitySnapshot.Reason.FILL)


def equity_snapshot_record(*, portfolio: Portfolio, reason: str) -> EquitySnapshot:
    from apps.portfolio.selectors import portfolio_equity_get

    snapshot = _snapshot_row(portfolio=portfolio, value=portfolio_equity_get(portfolio=portfolio), reason=reason)
    snapshot.save()
    return snapshot


def _snapshot_row(*, portfolio: Portfolio, value: Any, reason: str) -> EquitySnapshot:
    return EquitySnapshot(
        portfolio=portfolio,
        ts=timezone.now(),
        equity=engine.q18(value.equity),
        cash=engine.q18(value.cash),
        positions_value=engine.q18(value.positions_value),
        reason=reason,
    )


def after_commit(*, order: Order, event: str, fills: list[Fill]) -> None:
    """Push to the portfolio page, count metrics and update the matcher index once committed.

    Built when the hook runs, from the same objects: by then they carry their new primary
    keys."""
    from apps.portfolio import metrics, realtime
    from apps.portfolio.services.pushes import portfolio_push

    def _run() -> None:
        metrics.order_observed(order_type=order.order_type, status=order.status, fills=len(fills), event=event)
        payload = realtime.order_payload(order=order, fills=fills)
        portfolio_push(portfolio_id=order.portfolio_id, event=event, data=payload)
        view = resting_index.resting_view(order) if order.is_open else None
        resting_index.index_update(key=(order.exchange, order.symbol, order.pk), view=view)

    transaction.on_commit(_run)
