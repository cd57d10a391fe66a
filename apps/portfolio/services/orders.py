"""The one order service. API, pages, bots and admin all call ``order_place``/``order_cancel``.

Order of work: safety guard -> parameter shape (caller's thread) -> one transaction, shared
with the orders other threads of the process place at the same moment (placement.py:
portfolio row lock, idempotency, balance row locks, exchange filters, balance check (and
funds locked for an order that may rest), fill engine, ledger, position, audit) -> pushes
after commit. Any error rolls the order back.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.exceptions import ApplicationError
from apps.core.logging import request_id_var
from apps.core.money import to_decimal
from apps.portfolio import rules
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import OrderWork, order_work_flush, release_funds
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.ledger import Posting, balances_lock
from apps.portfolio.services.placement import CONSUMED, CONSUMED_LOCK, PlaceRequest, order_submit
from apps.safety.audit import audit_record
from apps.safety.models import AuditEvent

__all__ = ["CONSUMED", "CONSUMED_LOCK", "OrderRequest", "order_cancel", "order_place", "order_request_build"]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: str
    order_type: str
    time_in_force: str
    quantity: Decimal | None
    quote_quantity: Decimal | None
    price: Decimal | None
    stop_price: Decimal | None

    def fingerprint(self) -> str:
        body = {k: (str(v.normalize()) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def actor_label_for(actor: Any) -> str:
    if actor is None:
        return ""
    if getattr(actor, "is_authenticated", False):
        return actor.get_username()
    return str(actor)[:150]


def _decimal_or_none(exchange: str, name: str, value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value, field=name)
    except ValueError:
        raise rules.reject_param(exchange, name) from None


def order_request_build(
    *,
    exchange: str,
    symbol: str,
    side: str,
    order_type: str,
    time_in_force: str,
    quantity: object,
    quote_quantity: object,
    price: object,
    stop_price: object,
) -> OrderRequest:
    request = OrderRequest(
        symbol=str(symbol).upper(),
        side=str(side).lower(),
        order_type=str(order_type).lower(),
        time_in_force=str(time_in_force or "GTC").upper(),
        quantity=_decimal_or_none(exchange, "quantity", quantity),
        quote_quantity=_decimal_or_none(exchange, "quote_quantity", quote_quantity),
        price=_decimal_or_none(exchange, "price", price),
        stop_price=_decimal_or_none(exchange, "stop_price", stop_price),
    )
    rules.check_shape(
        exchange=exchange,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        side=request.side,
        quantity=request.quantity,
        quote_quantity=request.quote_quantity,
        price=request.price,
        stop_price=request.stop_price,
    )
    return request


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
    time_in_force: str = "GTC",
    client_order_id: str | None = None,
    source: str = "api",
    source_ip: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Order:
    """Place a paper order; returns it filled, resting or expired. Raises OrderRejectedError
    (exchange code and message), ConflictError (same client_order_id, different content),
    MarketDataUnavailableError, or RealTradingAttemptError from the safety guard."""
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
            )
        )
    except ApplicationError as error:
        _audit_rejection(
            portfolio=portfolio, actor=actor, source_ip=source_ip, payload=payload, error=error, action="order.place"
        )
        metrics.order_rejected(order_type=str(order_type), code=error.code)
        raise
    metrics.order_latency_observe(time.perf_counter() - started)
    return order


def _audit_rejection(
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


def order_cancel(*, order: Order, actor: Any, source: str = "api", source_ip: str | None = None) -> Order:
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
        _audit_rejection(
            portfolio=portfolio,
            actor=actor,
            source_ip=source_ip,
            payload={"symbol": current.symbol, "order_id": current.pk},
            error=error,
            action="order.cancel",
        )
        raise error
    return current
