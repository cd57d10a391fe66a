"""The one order service. API, pages, bots and admin all call ``order_place`` (and
``services.cancels.order_cancel``).

Order of work: safety guard -> parameter shape (caller's thread) -> one transaction, shared
with the orders other threads of the process place at the same moment (placement.py:
portfolio row lock, idempotency, balance row locks, exchange filters, balance check (and
funds locked for an order that may rest), fill engine, ledger, position, audit) -> pushes
after commit. Any error rolls the order back.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from apps.core.exceptions import ApplicationError
from apps.core.logging import request_id_var
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.order_request import actor_label_for, order_request_build
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.order_arrival import OWN_RESERVE, ListReserve
from apps.portfolio.services.placement import PlaceRequest, order_submit
from apps.safety.audit import audit_record
from apps.safety.models import AuditEvent

__all__ = ["order_place"]


def order_place(
    *,
    portfolio: Portfolio,
    actor: Any,
    symbol: str,
    side: str,
    order_type: str,
    quantity: Decimal | str | None = None,
    quote_quantity: Decimal | str | None = None,
    price: Decimal | str | None = None,
    stop_price: Decimal | str | None = None,
    trailing_delta_bps: int | None = None,
    time_in_force: str = "GTC",
    client_order_id: str | None = None,
    source: str = "api",
    source_ip: str | None = None,
    extra: dict[str, Any] | None = None,
    order_list_id: int | None = None,
    list_reserve: ListReserve = OWN_RESERVE,
) -> Order:
    """Place a paper order; returns it filled, resting or expired. Raises OrderRejectedError
    (exchange code and message), ConflictError (same client_order_id, different content),
    MarketDataUnavailableError, or RealTradingAttemptError from the safety guard.
    ``order_list_id`` / ``list_reserve``: an order of an order list (``order_lists.oco_place``)."""
    from apps.portfolio import metrics
    from apps.safety.guards import paper_trade_guard

    payload = {
        "exchange": portfolio.exchange,
        "symbol": symbol,
        "side": side,
        "type": order_type,
        "quantity": str(quantity) if quantity is not None else None,
        "quote_quantity": str(quote_quantity) if quote_quantity is not None else None,
        "price": str(price) if price is not None else None,
        "stop_price": str(stop_price) if stop_price is not None else None,
        "trailing_delta_bps": trailing_delta_bps,
        "time_in_force": time_in_force,
        "client_order_id": client_order_id,
        "portfolio_id": portfolio.pk,
        **(extra or {}),
    }
    paper_trade_guard(payload=payload, actor=actor, source=source, source_ip=source_ip)
    started = time.perf_counter()
    try:
        request = order_request_build(
            exchange=portfolio.exchange,
            symbol=symbol,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            quantity=quantity,
            quote_quantity=quote_quantity,
            price=price,
            stop_price=stop_price,
            trailing_delta_bps=trailing_delta_bps,
        )
        instrument = instrument_rules_get(exchange=portfolio.exchange, symbol=request.symbol)
        order = order_submit(
            PlaceRequest(
                portfolio_id=portfolio.pk,
                request=request,
                instrument=instrument,
                client_order_id=client_order_id,
                actor=actor,
                actor_label=actor_label_for(actor),
                source=source,
                source_ip=source_ip,
                request_id=request_id_var.get(),
                extra=extra or {},
                order_list_id=order_list_id,
                reserve=list_reserve,
            )
        )
    except ApplicationError as error:
        order_rejection_audit(
            portfolio=portfolio, actor=actor, source_ip=source_ip, payload=payload, error=error, action="order.place"
        )
        metrics.order_rejected(order_type=str(order_type), code=error.code)
        raise
    metrics.order_latency_observe(time.perf_counter() - started)
    return order


def order_rejection_audit(
    *, portfolio: Portfolio, actor: Any, source_ip: str | None, payload: dict, error: ApplicationError, action: str
) -> None:
    """An ordinary rejection is the exchange saying no: audited as a rejected order, never as
    a refused trade attempt, which the watchdog alerts as a safety violation."""
    audit_record(
        category=AuditEvent.Category.ORDER,
        action=action,
        result=AuditEvent.Result.REJECTED,
        actor=actor,
        actor_label=actor_label_for(actor),
        source_ip=source_ip,
        portfolio_id=portfolio.pk,
        exchange=portfolio.exchange,
        symbol=str(payload.get("symbol") or ""),
        message=f"{error.code}: {error.message}",
        data={"request": {k: v for k, v in payload.items() if isinstance(v, str | int | None)}, "code": error.code},
    )
