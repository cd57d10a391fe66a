"""Resting orders meeting market events: the live path, one transaction per order.

The matcher's in-memory check is only a hint: here the order row is re-read under lock and
the decision re-made from the stored state, so a stale index can never fill twice, fill a
canceled order or overspend. Walks of the book take from the consumed-liquidity store
shared with placement (``apps.portfolio.liquidity``).

Queue position (rule 3) applies to portfolios that enable it; each order keeps the time of
the last print applied to it (``matched_until_ms``), so the replay, a latent cancel and the
live matcher never apply one print twice.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.market.events import BookSnapshot, TradeEvent
from apps.portfolio import books, resting_rules
from apps.portfolio import fills as engine
from apps.portfolio.liquidity import liquidity_store
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
from apps.portfolio.services.order_arrival import resting_spec
from apps.portfolio.services.order_lists import order_list_settle

ACTOR = "matcher"
ZERO = Decimal("0")


def order_arrival_ms(order: Order) -> int:
    """When the order reached the (simulated) exchange: placement plus its sampled latency."""
    return int(order.created_at.timestamp() * 1000) + order.latency_ms


def resting_orders_watch() -> Any:
    """The open orders the matcher watches, with their portfolio (for the queue flag); loaded
    on start, so open orders survive restarts."""
    return (
        Order.objects.filter(status__in=Order.OPEN_STATUSES)
        .exclude(time_in_force__in=("IOC", "FOK"))
        .select_related("portfolio")
    )


def order_lock_open(order_id: int) -> tuple[Portfolio, Order] | None:
    """Lock portfolio then order (the order service's lock order); None when not open."""
    order = Order.objects.filter(pk=order_id).only("portfolio_id", "status").first()
    if order is None or not order.is_open:
        return None
    portfolio = Portfolio.objects.select_for_update().get(pk=order.portfolio_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    if not order.is_open:
        return None
    order.portfolio = portfolio
    return portfolio, order


def order_work_for(portfolio: Portfolio, order: Order) -> OrderWork:
    return OrderWork(
        portfolio=portfolio,
        order=order,
        posting=Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio)),
        audit=AuditBatch(actor=None, actor_label=ACTOR),
    )


def resting_order_match(*, order_id: int, event: TradeEvent | BookSnapshot) -> Order | None:
    """Apply one market event to one resting order (one transaction). Returns the order when
    anything about it changed (trigger, queue, fill or expiry), else None. Prints older than
    the last one applied to the order are skipped."""
    with transaction.atomic():
        locked = order_lock_open(order_id)
        if locked is None:
            return None
        portfolio, order = locked
        if _already_applied(order, event):
            return None
        trail_before = order.trail_best
        just_triggered = _trigger(order=order, event=event)
        if just_triggered and order.order_list_id is not None:
            order_list_settle(order=order, why="triggered")
        queue_before = order.queue_ahead
        if _uses_queue(order, event) and not just_triggered:
            execution = _queue_decide(order=order, event=event)  # type: ignore[arg-type]
        else:
            execution = resting_decide(order=order, event=event, just_triggered=just_triggered)
        if execution is None or not execution.slices:
            moved = order.queue_ahead != queue_before or order.trail_best != trail_before
            return _unfilled(order=order, event=event, triggered=just_triggered, queue_moved=moved)
        if order.order_list_id is not None and order.filled_qty == 0 and order.order_type not in engine.STOP_TYPES:
            order_list_settle(order=order, why="filled")  # a limit leg's first fill (Binance: also partial)
        work = order_work_for(portfolio, order)
        apply_execution(work=work, execution=execution)
        order_finish(posting=work.posting, order=order)
        _mark_applied(order, event)
        order_work_flush(work=work, event="fill")
        return order


def _unfilled(*, order: Order, event: TradeEvent | BookSnapshot, triggered: bool, queue_moved: bool) -> Order | None:
    """No fill: only a trigger or a queue move is saved (and a trigger pushed)."""
    if not (triggered or queue_moved):
        return None
    _mark_applied(order, event)
    order.save(update_fields=["triggered", "trail_best", "queue_ahead", "matched_until_ms", "updated_at"])
    if triggered:
        after_commit(order=order, event="trigger", fills=[])
    return order


def _already_applied(order: Order, event: TradeEvent | BookSnapshot) -> bool:
    """Only prints are compared: books come on another stream, with their own clock skew."""
    return isinstance(event, TradeEvent) and order.matched_until_ms is not None and event.ts_ms < order.matched_until_ms


def _mark_applied(order: Order, event: TradeEvent | BookSnapshot) -> None:
    if isinstance(event, TradeEvent):
        order.matched_until_ms = max(order.matched_until_ms or 0, event.ts_ms)


def _trigger(*, order: Order, event: TradeEvent | BookSnapshot) -> bool:
    """Stops trigger on trade prints only (a quote moving is not a trade); a trailing stop's
    best price moves with them. True when this event is the trigger."""
    if order.order_type not in engine.STOP_TYPES or order.triggered or not isinstance(event, TradeEvent):
        return False
    order.trail_best, order.triggered = resting_rules.trigger_on_trade(
        resting_spec(order), best_price=order.trail_best, trade_price=event.price
    )
    return order.triggered


def resting_decide(*, order: Order, event: TradeEvent | BookSnapshot, just_triggered: bool) -> engine.Execution | None:
    """What one event does to a resting order under the plain rules."""
    if order.order_type in engine.STOP_TYPES and not order.triggered:
        return None
    step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
    left = remaining_qty(order) or ZERO
    if order.order_type in engine.STOP_MARKET_TYPES:
        return _stop_market(order=order, event=event, step=step, left=left)
    if order.price is None:
        return None
    if just_triggered:
        # The order reaches the book only now: marketable, it takes liquidity; otherwise it
        # rests, and the print that triggered it happened before it existed.
        book = books.book_for(exchange=order.exchange, symbol=order.symbol)
        if book is not None and resting_rules.is_marketable(side=order.side, price=order.price, book=book):
            return engine.walk_book(
                book=book,
                side=order.side,
                quantity=left,
                limit_price=order.price,
                step_size=step,
                consumed=liquidity_store(),
            )
        return None
    if not isinstance(event, TradeEvent):
        return None
    qty = resting_rules.resting_fill_on_trade(
        side=order.side,
        limit_price=order.price,
        remaining=left,
        trade_price=event.price,
        trade_qty=event.quantity,
        step_size=step,
    )
    return _maker_fill(order=order, event=event, qty=qty, rule=engine.RULE_TRADE_THROUGH)


def _maker_fill(*, order: Order, event: TradeEvent, qty: Decimal, rule: str) -> engine.Execution | None:
    if qty <= 0:
        return None
    part = engine.FillSlice(price=order.price, quantity=qty, liquidity=engine.MAKER, rule=rule, trade_id=event.trade_id)
    mid = books.mid_price(exchange=order.exchange, symbol=order.symbol)
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
        consumed=liquidity_store(),
        gap_price=gap,
        rule=engine.RULE_STOP_GAP,
    )
    if isinstance(event, TradeEvent):
        # The print that set the gap price names the fill (and so is never applied again).
        slices = tuple(replace(part, trade_id=event.trade_id) for part in execution.slices)
        execution = replace(execution, slices=slices)
    if execution.arrival_mid is None:
        mid = books.mid_price(exchange=order.exchange, symbol=order.symbol)
        execution = replace(execution, arrival_mid=mid or gap)
    return execution


def _uses_queue(order: Order, event: TradeEvent | BookSnapshot) -> bool:
    return (
        order.portfolio.queue_position_model
        and isinstance(event, TradeEvent)
        and order.price is not None
        and order.order_type not in engine.STOP_MARKET_TYPES
        and (order.order_type not in engine.STOP_TYPES or order.triggered)
    )


def _queue_estimate(order: Order) -> Decimal | None:
    """The book quantity ahead of the order on its arrival book (None: no book known). A
    triggered stop-limit joined the book only now: the current book."""
    at_ms = None if order.order_type in engine.STOP_TYPES else order_arrival_ms(order)
    book = books.book_for(exchange=order.exchange, symbol=order.symbol, at_ms=at_ms)
    if book is None:
        return None
    return resting_rules.queue_ahead_estimate(side=order.side, price=order.price, book=book)


def _queue_decide(*, order: Order, event: TradeEvent) -> engine.Execution | None:
    """Rule 3 with a queue: mutates ``order.queue_ahead``; returns the fill, if any."""
    if order.queue_ahead is None:
        order.queue_ahead = _queue_estimate(order)
        if order.queue_ahead is None:
            return resting_decide(order=order, event=event, just_triggered=False)  # no book: plain rule
    step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
    qty, order.queue_ahead, rule = resting_rules.resting_fill_with_queue(
        side=order.side,
        limit_price=order.price,
        remaining=remaining_qty(order) or ZERO,
        trade_price=event.price,
        trade_qty=event.quantity,
        queue_ahead=order.queue_ahead,
        step_size=step,
    )
    return _maker_fill(order=order, event=event, qty=qty, rule=rule)


def order_finish(*, posting: Posting, order: Order) -> None:
    """After a fill: the order's status, and its reserve released once it is closed."""
    order.status = status_after(order, exhausted=True)
    left = remaining_qty(order) or ZERO
    buy_stop = order.order_type in engine.STOP_MARKET_TYPES and order.side == "buy"
    if buy_stop and order.is_open and order.avg_price and order.locked_amount < left * order.avg_price:
        # The reserve (stop price plus slippage band) cannot pay for the rest: it expires.
        order.status = Order.Status.EXPIRED
    if not order.is_open:
        release_funds(posting=posting, order=order, memo=f"order {order.status}")
