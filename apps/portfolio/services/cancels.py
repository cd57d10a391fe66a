"""The one public cancel. API, pages, bots and admin call ``order_cancel``.

A cancel takes latency to reach the exchange (FILL_REALISM rule 6; see ``apps.portfolio.matcher``
for the exact semantics): prints made before it arrives that this process already holds fill
the order first, then it is canceled and its reserve released, in one transaction.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from apps.market.events import TradeEvent
from apps.portfolio import arrival, resting_index, rules
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.order_request import actor_label_for
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import OrderWork, order_work_flush, release_funds
from apps.portfolio.services.ledger import Posting, balances_lock
from apps.portfolio.services.order_lists import order_list_cancel_rest
from apps.portfolio.services.orders import order_rejection_audit
from apps.portfolio.services.resting import order_arrival_ms, resting_order_match


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


def order_cancel(
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
    then the order is canceled (status canceled at once). If those
    prints filled it completely, the cancel gets the exchange's unknown-order error, as a real
    cancel racing a fill does. ``pending``: prints the caller holds (the matcher's queue)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    current = Order.objects.select_related("portfolio").get(pk=order.pk)
    if current.is_open:
        portfolio = current.portfolio
        latency = arrival.cancel_latency_ms(
            seed=portfolio.seed, seq=current.seq, mean_ms=portfolio.latency_ms, jitter_ms=portfolio.latency_jitter_ms
        )
        deadline = now_ms + latency
        held = [
            event
            for event in (pending or resting_index.pending_events(order_id=current.pk))
            if isinstance(event, TradeEvent)
        ]
        for trade in inflight_prints(order=current, until_ms=deadline, extra=held):
            resting_order_match(order_id=current.pk, event=trade)
        Order.objects.filter(pk=current.pk, status__in=Order.OPEN_STATUSES).update(cancel_deadline_ms=deadline)
    return _cancel_now(order=current, actor=actor, source=source, source_ip=source_ip)


def _cancel_now(*, order: Order, actor: Any, source: str, source_ip: str | None) -> Order:
    """Cancel an open order and release what it reserves. A closed order is the exchange's
    "unknown order" error, so a cancel racing a fill is refused, never applied twice."""
    with transaction.atomic():
        portfolio = Portfolio.objects.select_for_update().get(pk=order.portfolio_id)
        current = Order.objects.select_for_update().get(pk=order.pk)
        current.portfolio = portfolio
        if not current.is_open:
            error = rules.reject_unknown_order(portfolio.exchange)
        else:
            error = None
            work = OrderWork(
                portfolio=portfolio,
                order=current,
                posting=Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio)),
                audit=AuditBatch(actor=actor, actor_label=actor_label_for(actor), source_ip=source_ip),
            )
            if current.order_list_id is not None:  # canceling one order of an OCO cancels the list
                order_list_cancel_rest(order=current, posting=work.posting, audit=work.audit)
            release_funds(posting=work.posting, order=current, memo="cancel")
            current.status = Order.Status.CANCELED
            order_work_flush(
                work=work,
                event="cancel",
                audit_order={
                    "category": "order",
                    "action": "order.cancel",
                    "portfolio_id": portfolio.pk,
                    "exchange": portfolio.exchange,
                    "symbol": current.symbol,
                    "message": f"cancel #{current.pk}",
                    "data": {"source": source},
                },
            )
    if error is not None:
        order_rejection_audit(
            portfolio=portfolio,
            actor=actor,
            source_ip=source_ip,
            payload={"symbol": current.symbol, "order_id": current.pk},
            error=error,
            action="order.cancel",
        )
        raise error
    return current
