"""Resting orders meeting market events (called by the matcher, one transaction per order).

The matcher's in-memory check is only a hint: here the order row is re-read under lock and
the decision re-made from the stored state, so a stale index can never fill twice, fill a
canceled order or overspend.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.market.events import BookSnapshot, TradeEvent
from apps.portfolio import books
from apps.portfolio import fills as engine
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import (
    OrderWork,
    after_commit,
    apply_execution,
    order_work_flush,
    release_funds,
    remaining_qty,
    status_after,
)
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.ledger import Posting, balances_lock
from apps.portfolio.services.orders import CONSUMED, CONSUMED_LOCK

ACTOR = "matcher"


def order_match_event(*, order_id: int, event: TradeEvent | BookSnapshot) -> Order | None:
    """Apply one trade print or book update to one resting order. Returns the order when
    something changed (trigger, fill or expiry), else None."""
    with transaction.atomic():
        order = Order.objects.select_related("portfolio").filter(pk=order_id).first()
        if order is None or not order.is_open:
            return None
        portfolio = Portfolio.objects.select_for_update().get(pk=order.portfolio_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if not order.is_open:
            return None
        order.portfolio = portfolio
        changed = _trigger(order=order, event=event)
        with CONSUMED_LOCK:
            execution = _decide(order=order, event=event, just_triggered=changed)
        if execution is None or not execution.slices:
            if changed:
                order.save(update_fields=["triggered", "updated_at"])
                after_commit(order=order, event="trigger", fills=[])
                return order
            return None
        work = OrderWork(
            portfolio=portfolio,
            order=order,
            posting=Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio)),
            audit=AuditBatch(actor=None, actor_label=ACTOR),
        )
        apply_execution(work=work, execution=execution)
        _finish(posting=work.posting, order=order)
        order_work_flush(work=work, event="fill")
        return order


def _trigger(*, order: Order, event: TradeEvent | BookSnapshot) -> bool:
    """Stops trigger on trade prints only (a quote moving is not a trade). True when this
    event is the trigger."""
    if order.order_type not in engine.STOP_TYPES or order.triggered or not isinstance(event, TradeEvent):
        return False
    order.triggered = engine.stop_triggered(
        order_type=order.order_type, side=order.side, stop_price=order.stop_price, trade_price=event.price
    )
    return order.triggered


def _decide(*, order: Order, event: TradeEvent | BookSnapshot, just_triggered: bool) -> engine.Execution | None:
    if order.order_type in engine.STOP_TYPES and not order.triggered:
        return None
    step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
    left = remaining_qty(order) or Decimal("0")
    if order.order_type in engine.STOP_MARKET_TYPES:
        return _stop_market(order=order, event=event, step=step, left=left)
    if order.price is None:
        return None
    if just_triggered:
        # The order reaches the book only now: marketable, it takes liquidity; otherwise it
        # rests, and the print that triggered it happened before it existed.
        book = books.book_for(exchange=order.exchange, symbol=order.symbol)
        if book is not None and engine.is_marketable(side=order.side, price=order.price, book=book):
            return engine.walk_book(
                book=book, side=order.side, quantity=left, limit_price=order.price, step_size=step, consumed=CONSUMED
            )
        return None
    if not isinstance(event, TradeEvent):
        return None
    qty = engine.resting_fill_on_trade(
        side=order.side,
        limit_price=order.price,
        remaining=left,
        trade_price=event.price,
        trade_qty=event.quantity,
        step_size=step,
    )
    if qty <= 0:
        return None
    mid = books.mid_price(exchange=order.exchange, symbol=order.symbol)
    part = engine.FillSlice(
        price=order.price, quantity=qty, liquidity=engine.MAKER, rule=engine.RULE_TRADE_THROUGH, trade_id=event.trade_id
    )
    return engine.Execution(side=order.side, slices=(part,), arrival_mid=mid)


def _stop_market(*, order: Order, event: TradeEvent | BookSnapshot, step: Decimal, left: Decimal) -> engine.Execution:
    """A triggered stop-market walks the book; a print beyond the book sets the worse price
    (gap fill). With no book yet, it fills against the print itself, capped by its size."""
    gap = event.price if isinstance(event, TradeEvent) else None
    book = event if isinstance(event, BookSnapshot) else books.book_for(exchange=order.exchange, symbol=order.symbol)
    if book is None and isinstance(event, TradeEvent):
        level = ((event.price, event.quantity),)
        book = BookSnapshot(
            exchange=order.exchange,
            symbol=order.symbol,
            bids=level if order.side == "sell" else (),
            asks=level if order.side == "buy" else (),
            ts_ms=event.ts_ms,
        )
    if book is None:
        return engine.Execution(side=order.side, slices=(), arrival_mid=None)
    execution = engine.walk_book(
        book=book,
        side=order.side,
        quantity=left,
        quote_quantity=order.locked_amount if order.side == "buy" else None,
        step_size=step,
        consumed=CONSUMED,
        gap_price=gap,
        rule=engine.RULE_STOP_GAP,
    )
    if execution.arrival_mid is None:
        mid = books.mid_price(exchange=order.exchange, symbol=order.symbol)
        execution = engine.Execution(side=order.side, slices=execution.slices, arrival_mid=mid or gap)
    return execution


def _finish(*, posting: Posting, order: Order) -> None:
    order.status = status_after(order, exhausted=True)
    left = remaining_qty(order) or Decimal("0")
    buy_stop = order.order_type in engine.STOP_MARKET_TYPES and order.side == "buy"
    if buy_stop and order.is_open and order.avg_price and order.locked_amount < left * order.avg_price:
        # The reserve (stop price plus slippage band) cannot pay for the rest: it expires.
        order.status = Order.Status.EXPIRED
    if not order.is_open:
        release_funds(posting=posting, order=order, memo=f"order {order.status}")


def resting_orders_open() -> list[Order]:
    """Everything the matcher must watch (loaded on start: open orders survive restarts)."""
    return list(Order.objects.filter(status__in=Order.OPEN_STATUSES).exclude(time_in_force__in=("IOC", "FOK")))
