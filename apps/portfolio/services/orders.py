"""The one order service. API, pages, bots and admin all call ``order_place``/``order_cancel``.

Order of work: safety guard -> parameter shape -> exchange filters -> one transaction
(portfolio row lock, idempotency, balance row locks, lock funds, fill engine, ledger,
position, audit) -> pushes after commit. Any error rolls the whole order back.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.money import to_decimal
from apps.portfolio import books, rules
from apps.portfolio import fills as engine
from apps.portfolio.errors import MarketDataUnavailableError
from apps.portfolio.models import Balance, Order, Portfolio, Position
from apps.portfolio.services import fastpath
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import (
    OrderWork,
    apply_execution,
    lock_funds,
    order_work_flush,
    release_funds,
    status_after,
)
from apps.portfolio.services.instruments import InstrumentRules, instrument_rules_get
from apps.portfolio.services.ledger import Posting, balances_lock
from apps.safety.audit import audit_record

ZERO = Decimal("0")
BPS = Decimal("10000")

# Liquidity our orders took, per process, until the book level refreshes (FILL_REALISM rule 2).
# Orders of one process may run in several threads: a walk reads and updates CONSUMED, so
# walks hold CONSUMED_LOCK (pure CPU work, so it costs nothing under the GIL).
CONSUMED = engine.ConsumedLiquidity()
CONSUMED_LOCK = threading.Lock()


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
        order = _place(
            portfolio=portfolio,
            actor=actor,
            request=request,
            instrument=instrument,
            client_order_id=client_order_id,
            source=source,
            source_ip=source_ip,
            extra=extra or {},
        )
    except ApplicationError as error:
        _audit_refusal(portfolio=portfolio, actor=actor, source_ip=source_ip, payload=payload, error=error)
        metrics.order_rejected(order_type=str(order_type), code=error.code)
        raise
    metrics.order_latency_observe(time.perf_counter() - started)
    return order


def _audit_refusal(
    *, portfolio: Portfolio, actor: Any, source_ip: str | None, payload: dict, error: ApplicationError
) -> None:
    audit_record(
        category="trade_attempt",
        action="order.place",
        result="refused",
        actor=actor,
        actor_label=actor_label_for(actor),
        source_ip=source_ip,
        portfolio_id=portfolio.pk,
        exchange=portfolio.exchange,
        symbol=str(payload.get("symbol") or ""),
        message=f"{error.code}: {error.message}",
        data={"request": {k: v for k, v in payload.items() if isinstance(v, str | int | None)}, "code": error.code},
    )


def _async_commit() -> bool:
    return getattr(settings, "PAPER_ORDER_ASYNC_COMMIT", False) and connection.vendor == "postgresql"


@dataclass(frozen=True, slots=True)
class _KnownPosition:
    value: Position | None  # None: no row for this symbol yet


def _open(
    *, portfolio_id: int, symbol: str, client_order_id: str | None
) -> tuple[Portfolio, dict[str, Balance], _KnownPosition | None, Order | None]:
    """Lock the portfolio (taking the next order sequence number) and its balance rows; find
    an earlier order with the same client order id. On Postgres this is one round trip that
    also reads the position (``_KnownPosition``); elsewhere the position is read on demand."""
    if fastpath.enabled():
        state = fastpath.order_open(
            portfolio_id=portfolio_id, symbol=symbol, client_order_id=client_order_id, async_commit=_async_commit()
        )
        existing = None
        if state.existing_order_id is not None:
            existing = Order.objects.get(pk=state.existing_order_id)
        return state.portfolio, state.balances, _KnownPosition(state.position), existing
    locked = _portfolio_lock(portfolio_id)
    if client_order_id:
        existing = Order.objects.filter(portfolio=locked, client_order_id=client_order_id).first()
        if existing is not None:
            return locked, {}, None, existing
    return locked, balances_lock(portfolio=locked), None, None


def _portfolio_lock(portfolio_id: int) -> Portfolio:
    """Lock the portfolio row and take the next order sequence number in one round trip.

    With PAPER_ORDER_ASYNC_COMMIT (Postgres), the transaction commits without waiting for
    the WAL flush: a database crash may lose the last few hundred ms of paper orders, but
    never half of one (the WAL keeps each transaction whole)."""
    table = Portfolio._meta.db_table
    extra = ", set_config('synchronous_commit', 'off', true) AS async_commit" if _async_commit() else ""
    rows = list(
        Portfolio.objects.raw(
            f"UPDATE {table} SET order_seq = order_seq + 1 WHERE id = %s RETURNING *{extra}",  # noqa: S608 - constants only  # nosec B608
            [portfolio_id],
        )
    )
    if not rows:
        raise Portfolio.DoesNotExist(portfolio_id)
    return rows[0]


def _place(
    *,
    portfolio: Portfolio,
    actor: Any,
    request: OrderRequest,
    instrument: InstrumentRules,
    client_order_id: str | None,
    source: str,
    source_ip: str | None,
    extra: dict[str, Any],
) -> Order:
    fingerprint = request.fingerprint()
    with transaction.atomic():
        locked, balances, position, existing = _open(
            portfolio_id=portfolio.pk, symbol=request.symbol, client_order_id=client_order_id
        )
        if existing is not None:
            return _idempotent(existing, fingerprint)
        latency = engine.latency_sample_ms(
            seed=locked.seed, seq=locked.order_seq, mean_ms=locked.latency_ms, jitter_ms=locked.latency_jitter_ms
        )
        book = books.book_for(exchange=locked.exchange, symbol=request.symbol, at_ms=int(time.time() * 1000) + latency)
        _check_market_rules(portfolio=locked, request=request, instrument=instrument, book=book)
        order = Order(
            portfolio=locked,
            client_order_id=client_order_id or f"paper-{uuid.uuid4().hex[:24]}",
            request_hash=fingerprint,
            exchange=locked.exchange,
            symbol=request.symbol,
            base_asset=instrument.base_asset,
            quote_asset=instrument.quote_asset,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            quantity=request.quantity,
            quote_quantity=request.quote_quantity,
            price=request.price,
            stop_price=request.stop_price,
            latency_ms=latency,
            seq=locked.order_seq,
            arrival_mid=book.mid if book is not None else None,
            source=source[:32],
            extra=extra,
        )
        work = OrderWork(
            portfolio=locked,
            order=order,
            posting=Posting(portfolio=locked, balances=balances),
            audit=AuditBatch(actor=actor, actor_label=actor_label_for(actor), source_ip=source_ip),
        )
        if position is not None:
            work.known_position, work.position_known = position.value, True
        with CONSUMED_LOCK:
            _execute_new(work=work, book=book, instrument=instrument)
        order_work_flush(
            work=work,
            event="order",
            audit_order={
                "category": "order",
                "action": "order.place",
                "portfolio_id": locked.pk,
                "exchange": locked.exchange,
                "symbol": order.symbol,
                "message": f"{order.side} {order.order_type} {order.quantity or order.quote_quantity} -> {order.status}",
                "data": {"client_order_id": order.client_order_id, "source": source, "fills": len(work.fills)},
            },
        )
    return order


def _idempotent(existing: Order, fingerprint: str) -> Order:
    if existing.request_hash != fingerprint:
        raise ConflictError(
            "Duplicate client order id with different order content.",
            code="duplicate_client_order_id",
            fields={"client_order_id": ["already used for a different order"]},
        )
    return existing


def _check_market_rules(*, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules, book: Any) -> None:
    exchange = portfolio.exchange
    last = books.last_price(exchange=exchange, symbol=request.symbol)
    reference = book.mid if book is not None and book.mid is not None else last
    rules.check_filters(
        exchange=exchange,
        filters=instrument.filters,
        quantity=request.quantity,
        quote_quantity=request.quote_quantity,
        price=request.price,
        stop_price=request.stop_price,
        reference_price=reference,
    )
    if request.order_type == "market" and (book is None or book.mid is None):
        raise MarketDataUnavailableError(f"No live order book for {exchange}:{request.symbol}; try again shortly.")
    if request.stop_price is not None and engine.would_trigger_now(
        order_type=request.order_type, side=request.side, stop_price=request.stop_price, last_price=last
    ):
        raise rules.reject_would_trigger(exchange)


def _require(*, work: OrderWork, asset: str, amount: Decimal) -> None:
    balance = work.posting.balances.get(asset)
    if balance is None or balance.free < amount:
        raise rules.reject_balance(work.order.exchange)


def _execute_new(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
    if work.order.order_type == "market":
        _execute_market(work=work, book=book, instrument=instrument)
    elif work.order.order_type in rules.STOP_TYPES:
        _lock_for_resting(work=work)
    else:
        _execute_limit(work=work, book=book, instrument=instrument)


def _execute_market(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
    order = work.order
    walk = {
        "book": book,
        "side": order.side,
        "quantity": order.quantity,
        "quote_quantity": order.quote_quantity,
        "step_size": instrument.filters.step_size,
        "consumed": CONSUMED,
        "max_slippage_bps": work.portfolio.max_slippage_bps,
    }
    CONSUMED.prune(book)
    probe = engine.walk_book(**walk, dry_run=True)
    if order.side == "buy":
        asset, need = order.quote_asset, order.quote_quantity or probe.quote
    else:
        asset, need = order.base_asset, order.quantity or probe.quantity
    _require(work=work, asset=asset, amount=need)
    if need > 0:
        lock_funds(posting=work.posting, order=order, asset=asset, amount=need)
    execution = engine.walk_book(**walk)
    apply_execution(work=work, execution=execution)
    done = status_after(order, exhausted=execution.exhausted)
    # A market order never rests: whatever the book could not fill expires.
    order.status = Order.Status.FILLED if done == Order.Status.FILLED else Order.Status.EXPIRED
    release_funds(posting=work.posting, order=order, memo="market order done")


def _lock_for_resting(*, work: OrderWork) -> None:
    order = work.order
    if order.side == "sell":
        asset, amount = order.base_asset, order.quantity
    elif order.price is not None:
        asset, amount = order.quote_asset, order.quantity * order.price
    else:
        # A buy stop-market reserves its quantity at the stop plus the slippage band; the
        # triggered walk never spends more than this.
        band = 1 + work.portfolio.max_slippage_bps / BPS
        asset, amount = order.quote_asset, order.quantity * order.stop_price * band
    amount = engine.q18(amount)
    _require(work=work, asset=asset, amount=amount)
    lock_funds(posting=work.posting, order=order, asset=asset, amount=amount)


def _execute_limit(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
    order = work.order
    _lock_for_resting(work=work)
    marketable = book is not None and engine.is_marketable(side=order.side, price=order.price, book=book)
    if marketable:
        CONSUMED.prune(book)
    fits = marketable and (
        order.time_in_force != "FOK"
        or engine.book_depth_fits(
            book=book, side=order.side, quantity=order.quantity, limit_price=order.price, consumed=CONSUMED
        )
    )
    if fits:
        execution = engine.walk_book(
            book=book,
            side=order.side,
            quantity=order.quantity,
            limit_price=order.price,
            step_size=instrument.filters.step_size,
            consumed=CONSUMED,
        )
        apply_execution(work=work, execution=execution)
    order.status = status_after(order, exhausted=True)
    if order.is_open and order.time_in_force in ("IOC", "FOK"):
        order.status = Order.Status.EXPIRED
    if not order.is_open:
        release_funds(posting=work.posting, order=order, memo=f"limit order {order.status}")


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
        _audit_refusal(
            portfolio=portfolio,
            actor=actor,
            source_ip=source_ip,
            payload={"symbol": current.symbol, "order_id": current.pk, "action": "cancel"},
            error=error,
        )
        raise error
    return current
