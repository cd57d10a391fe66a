"""Matcher services beyond plain matching: queue position, cancel latency, downtime replay.

* ``order_match_apply``: ``matching.order_match_event`` plus the queue-position model (rule 3)
  for portfolios that enable it, and the per-order "last event applied" mark that keeps the
  other two paths from applying a print twice.
* ``order_cancel_latent``: cancels take latency too (rule 6); see ``apps.portfolio.matcher``
  for the exact semantics.
* ``order_downtime_replay`` / ``matcher_downtime_replay``: what happened while the matcher was
  down is replayed from stored 1m candles, or marked as not simulated (rule 10).
* ``checkpoints_get`` / ``checkpoints_save``: the last event time processed per symbol.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.market.events import BookSnapshot, TradeEvent
from apps.market.models import Candle
from apps.portfolio import books, downtime
from apps.portfolio import fills as engine
from apps.portfolio.models import MatcherCheckpoint, Order, OrderDowntime, Portfolio
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import OrderWork, apply_execution, order_work_flush, remaining_qty
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.ledger import Posting, balances_lock

# matching.py owns the plain rules; these helpers are reused as they are (see the report:
# they could become public there).
from apps.portfolio.services.matching import _decide, _finish, _trigger
from apps.portfolio.services.orders import order_cancel

ACTOR = "matcher"
ZERO = Decimal("0")


def order_arrival_ms(order: Order) -> int:
    """When the order reached the (simulated) exchange: placement plus its sampled latency."""
    return int(order.created_at.timestamp() * 1000) + order.latency_ms


def _ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _fmt_ms(ms: int) -> str:
    return _ms_to_dt(ms).strftime("%Y-%m-%d %H:%M:%S UTC")


def _lock(order_id: int) -> tuple[Portfolio, Order] | None:
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


def _work(portfolio: Portfolio, order: Order) -> OrderWork:
    return OrderWork(
        portfolio=portfolio,
        order=order,
        posting=Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio)),
        audit=AuditBatch(actor=None, actor_label=ACTOR),
    )


def resting_orders_watch() -> Any:
    """The open orders the matcher watches, with their portfolio (for the queue flag)."""
    return (
        Order.objects.filter(status__in=Order.OPEN_STATUSES)
        .exclude(time_in_force__in=("IOC", "FOK"))
        .select_related("portfolio")
    )


# -- matching with the queue model ---------------------------------------------------------------


def _already_applied(order: Order, event: TradeEvent | BookSnapshot) -> bool:
    """Only prints are compared: books come on another stream, with their own clock skew."""
    return isinstance(event, TradeEvent) and order.matched_until_ms is not None and event.ts_ms < order.matched_until_ms


def _mark_applied(order: Order, event: TradeEvent | BookSnapshot) -> None:
    if isinstance(event, TradeEvent):
        order.matched_until_ms = max(order.matched_until_ms or 0, event.ts_ms)


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
    return engine.queue_ahead_estimate(side=order.side, price=order.price, book=book)


def _queue_decide(*, order: Order, event: TradeEvent) -> engine.Execution | None:
    """Rule 3 with a queue: mutates ``order.queue_ahead``; returns the fill, if any."""
    if order.queue_ahead is None:
        order.queue_ahead = _queue_estimate(order)
        if order.queue_ahead is None:
            return _decide(order=order, event=event, just_triggered=False)  # no book: plain rule
    step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
    qty, order.queue_ahead, rule = engine.resting_fill_with_queue(
        side=order.side,
        limit_price=order.price,
        remaining=remaining_qty(order) or ZERO,
        trade_price=event.price,
        trade_qty=event.quantity,
        queue_ahead=order.queue_ahead,
        step_size=step,
    )
    if qty <= 0:
        return None
    part = engine.FillSlice(price=order.price, quantity=qty, liquidity=engine.MAKER, rule=rule, trade_id=event.trade_id)
    mid = books.mid_price(exchange=order.exchange, symbol=order.symbol)
    return engine.Execution(side=order.side, slices=(part,), arrival_mid=mid)


def order_match_apply(*, order_id: int, event: TradeEvent | BookSnapshot) -> Order | None:
    """Apply one market event to one resting order (one transaction). Returns the order when
    anything about it changed, else None. Events older than the last one applied to the order
    (by the replay or a latent cancel) are skipped."""
    with transaction.atomic():
        locked = _lock(order_id)
        if locked is None:
            return None
        portfolio, order = locked
        if _already_applied(order, event):
            return None
        just_triggered = _trigger(order=order, event=event)
        queue_before = order.queue_ahead
        if _uses_queue(order, event) and not just_triggered:
            execution = _queue_decide(order=order, event=event)  # type: ignore[arg-type]
        else:
            execution = _decide(order=order, event=event, just_triggered=just_triggered)
        if execution is None or not execution.slices:
            changed = just_triggered or order.queue_ahead != queue_before
            if not changed:
                return None
            _mark_applied(order, event)
            order.save(update_fields=["triggered", "queue_ahead", "matched_until_ms", "updated_at"])
            if just_triggered:
                from apps.portfolio.services.execution import after_commit

                after_commit(order=order, event="trigger", fills=[])
            return order
        work = _work(portfolio, order)
        apply_execution(work=work, execution=execution)
        _finish(posting=work.posting, order=order)
        _mark_applied(order, event)
        order_work_flush(work=work, event="fill")
        return order


# -- cancel latency ------------------------------------------------------------------------------


def _cached_prints(exchange: str, symbol: str) -> list[TradeEvent]:
    try:
        from apps.market.cache import recent_trades_get

        return recent_trades_get(exchange, symbol, limit=200)
    except Exception:  # a cache outage means "no prints known", never a failed cancel
        return []


def inflight_prints(*, order: Order, until_ms: int, extra: list[TradeEvent] | None = None) -> list[TradeEvent]:
    """Prints this process knows of that the exchange made while the order rested and before
    ``until_ms`` and that were not applied to it yet, oldest first."""
    arrival_ms, applied_ms = order_arrival_ms(order), order.matched_until_ms
    seen = set(order.fills.values_list("trade_id", flat=True))
    found: dict[str, TradeEvent] = {}
    for trade in [*(extra or []), *_cached_prints(order.exchange, order.symbol)]:
        if trade.exchange != order.exchange or trade.symbol != order.symbol or trade.trade_id in seen:
            continue
        # Strictly after the last applied print: one in the same ms may already have been
        # counted against the queue, and counting it twice would be optimistic.
        if arrival_ms <= trade.ts_ms <= until_ms and (applied_ms is None or trade.ts_ms > applied_ms):
            found[trade.trade_id] = trade
    return sorted(found.values(), key=lambda t: (t.ts_ms, t.trade_id))


def order_cancel_latent(
    *,
    order: Order,
    actor: Any,
    source: str = "api",
    source_ip: str | None = None,
    now_ms: int | None = None,
    pending: list[TradeEvent] | None = None,
) -> Order:
    """Cancel with latency: prints made before the cancel reaches the exchange (now plus the
    sampled cancel latency) that this process already knows of still fill the order first;
    then the order is canceled as ``order_cancel`` does (status canceled at once). If those
    prints filled it completely, the cancel gets the exchange's unknown-order error, as a real
    cancel racing a fill does. ``pending``: prints the caller holds (the matcher's queue)."""
    from apps.portfolio import matcher

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    current = Order.objects.select_related("portfolio").get(pk=order.pk)
    if current.is_open:
        portfolio = current.portfolio
        latency = engine.cancel_latency_ms(
            seed=portfolio.seed, seq=current.seq, mean_ms=portfolio.latency_ms, jitter_ms=portfolio.latency_jitter_ms
        )
        deadline = now_ms + latency
        held = [
            event for event in (pending or matcher.pending_events(order_id=current.pk)) if isinstance(event, TradeEvent)
        ]
        for trade in inflight_prints(order=current, until_ms=deadline, extra=held):
            order_match_apply(order_id=current.pk, event=trade)
        Order.objects.filter(pk=current.pk, status__in=Order.OPEN_STATUSES).update(cancel_deadline_ms=deadline)
    return order_cancel(order=current, actor=actor, source=source, source_ip=source_ip)


# -- downtime replay -----------------------------------------------------------------------------


@dataclass(slots=True)
class ReplayResult:
    order_id: int
    replayed_bars: int = 0
    fills: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)


def _bars(*, exchange: str, symbol: str, start_ms: int, end_ms: int) -> list[downtime.Bar]:
    rows = Candle.objects.filter(
        exchange=exchange,
        symbol=symbol,
        timeframe="1m",
        open_time__gte=_ms_to_dt(start_ms),
        open_time__lt=_ms_to_dt(end_ms),
    ).order_by("open_time")
    return [
        downtime.Bar(
            open_time_ms=int(row.open_time.timestamp() * 1000),
            open=row.open,
            high=row.high,
            low=row.low,
            close=row.close,
            volume=row.volume,
        )
        for row in rows
    ]


def _bar_slice(*, order: Order, bar: downtime.Bar, step: Decimal) -> engine.FillSlice | None:
    """What one candle does to the order (mutates ``order.triggered``)."""
    left = remaining_qty(order) or ZERO
    trade_id = f"candle:{bar.open_time_ms}"
    if order.order_type in engine.STOP_TYPES and not order.triggered:
        if not downtime.stop_triggered_in_bar(
            order_type=order.order_type, side=order.side, stop_price=order.stop_price, bar=bar
        ):
            return None
        order.triggered = True
        if order.order_type not in engine.STOP_MARKET_TYPES:
            return None  # a stop-limit rests from the next bar on (order inside the bar unknown)
        price = downtime.stop_fill_price_in_bar(
            order_type=order.order_type, side=order.side, stop_price=order.stop_price, bar=bar
        )
    elif order.order_type in engine.STOP_MARKET_TYPES:
        price = downtime.market_fill_price_in_bar(side=order.side, bar=bar)
    else:
        qty = downtime.limit_fill_in_bar(
            side=order.side, limit_price=order.price, remaining=left, bar=bar, step_size=step
        )
        if qty <= 0:
            return None
        return engine.FillSlice(
            price=order.price, quantity=qty, liquidity=engine.MAKER, rule=engine.RULE_REPLAY_CANDLE, trade_id=trade_id
        )
    qty = min(engine.step_down(left, step), downtime.replay_volume_cap(bar=bar, step_size=step))
    if order.side == "buy":  # a buy stop-market never spends more than its reserve
        qty = min(qty, engine.step_down(order.locked_amount / price, step))
    if qty <= 0:
        return None
    return engine.FillSlice(
        price=price, quantity=qty, liquidity=engine.TAKER, rule=engine.RULE_REPLAY_CANDLE, trade_id=trade_id
    )


def order_downtime_replay(*, order_id: int, start_ms: int, end_ms: int) -> ReplayResult | None:
    """Replay stored 1m candles over (start, end) for one open order; mark what they do not
    cover as not simulated. One transaction. None when the order is no longer open."""
    with transaction.atomic():
        locked = _lock(order_id)
        if locked is None:
            return None
        portfolio, order = locked
        start_ms = max(start_ms, order_arrival_ms(order), order.matched_until_ms or 0)
        result = ReplayResult(order_id=order_id)
        if end_ms <= start_ms:
            return result
        bars = _bars(exchange=order.exchange, symbol=order.symbol, start_ms=start_ms, end_ms=end_ms)
        used, result.gaps = downtime.downtime_coverage(
            start_ms=start_ms, end_ms=end_ms, bar_opens=[b.open_time_ms for b in bars]
        )
        if not used and not result.gaps:
            return result  # a window shorter than the checkpoint's precision
        work = _work(portfolio, order)
        step = instrument_rules_get(exchange=order.exchange, symbol=order.symbol).filters.step_size
        for bar in (b for b in bars if b.open_time_ms in set(used)):
            if not order.is_open:
                break
            part = _bar_slice(order=order, bar=bar, step=step)
            result.replayed_bars += 1
            if part is not None:
                apply_execution(
                    work=work, execution=engine.Execution(side=order.side, slices=(part,), arrival_mid=bar.open)
                )
                _finish(posting=work.posting, order=order)
                result.fills += 1
        _record_downtime(work=work, order=order, start_ms=start_ms, end_ms=end_ms, result=result)
        order.matched_until_ms = end_ms
        order_work_flush(work=work, event="replay")
        return result


def _record_downtime(*, work: OrderWork, order: Order, start_ms: int, end_ms: int, result: ReplayResult) -> None:
    rows = [
        OrderDowntime(
            order=order,
            kind=OrderDowntime.Kind.REPLAYED,
            start_ms=start_ms,
            end_ms=end_ms,
            candles=result.replayed_bars,
        )
    ][: 1 if result.replayed_bars else 0]
    rows += [
        OrderDowntime(order=order, kind=OrderDowntime.Kind.NOT_SIMULATED, start_ms=a, end_ms=b) for a, b in result.gaps
    ]
    OrderDowntime.objects.bulk_create(rows)
    if result.replayed_bars:
        work.audit.add(
            category="order",
            action="order.downtime_replayed",
            message=f"#{order.pk}: replayed {result.replayed_bars} 1m candles between "
            f"{_fmt_ms(start_ms)} and {_fmt_ms(end_ms)} ({result.fills} reconstructed fills)",
            data={"order_id": order.pk, "start_ms": start_ms, "end_ms": end_ms, "fills": result.fills},
            portfolio_id=order.portfolio_id,
            exchange=order.exchange,
            symbol=order.symbol,
        )
    for gap_start, gap_end in result.gaps:
        order.not_simulated = True
        work.audit.add(
            category="order",
            action="order.not_simulated",
            message=f"#{order.pk}: not simulated during downtime from {_fmt_ms(gap_start)} to {_fmt_ms(gap_end)} "
            "(no stored 1m candles)",
            data={"order_id": order.pk, "start_ms": gap_start, "end_ms": gap_end},
            portfolio_id=order.portfolio_id,
            exchange=order.exchange,
            symbol=order.symbol,
        )


def matcher_downtime_replay(*, now_ms: int, checkpoints: dict[tuple[str, str], int]) -> list[ReplayResult]:
    """Replay every open resting order from its symbol's checkpoint (or its own arrival, if the
    matcher never saw the symbol) up to ``now_ms``, then move those checkpoints to ``now_ms``."""
    results: list[ReplayResult] = []
    symbols: set[tuple[str, str]] = set()
    for order in resting_orders_watch():
        key = (order.exchange, order.symbol)
        start = checkpoints.get(key, order_arrival_ms(order))
        result = order_downtime_replay(order_id=order.pk, start_ms=start, end_ms=now_ms)
        if result is not None:
            results.append(result)
            symbols.add(key)
    checkpoints_save(marks=dict.fromkeys(symbols, now_ms))
    return results


# -- checkpoints -------------------------------------------------------------------------------


def checkpoints_get() -> dict[tuple[str, str], int]:
    return {(c.exchange, c.symbol): c.last_event_ms for c in MatcherCheckpoint.objects.all()}


def checkpoints_save(*, marks: dict[tuple[str, str], int]) -> None:
    """Upsert; a checkpoint only moves forward."""
    if not marks:
        return
    current = checkpoints_get()
    rows = [
        MatcherCheckpoint(exchange=exchange, symbol=symbol, last_event_ms=ms)
        for (exchange, symbol), ms in marks.items()
        if ms > current.get((exchange, symbol), -1)
    ]
    MatcherCheckpoint.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["exchange", "symbol"], update_fields=["last_event_ms", "updated_at"]
    )
