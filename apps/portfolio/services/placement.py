"""Placing paper orders in batches: one transaction for the orders of one group commit.

``order_place`` (orders.py) runs the guard and the shape checks in the caller's thread and
hands a ``PlaceRequest`` to ``order_submit``. Callers of one process that submit at the
same moment share a transaction (``apps.portfolio.group_commit``); a lone caller, or one
already inside a transaction of its own, runs a batch of one in its own thread.

A batch: lock every portfolio involved and its balances (one round trip on Postgres), run
each order through the fill engine in submission order against the state in memory (so
the orders of one portfolio see each other's effects, exactly as if serialised by its row
lock), write every event (one more round trip) and commit once. Each request gets its own
outcome: a refused order (filters, balance, idempotency conflict) refuses only itself, as
it is refused before it touches any state. Anything else (a database error, a bug) rolls
the batch back and its orders are run again one transaction each, so one bad order cannot
take the others down with it.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction

from apps.core.exceptions import ApplicationError, ConflictError
from apps.portfolio import arrival, books
from apps.portfolio.group_commit import GroupCommit, Ticket
from apps.portfolio.models import Balance, Order, Portfolio, Position
from apps.portfolio.services import fastpath
from apps.portfolio.services.auditing import AuditBatch
from apps.portfolio.services.execution import (
    OrderWork,
    order_work_flush,
    order_work_prepare,
    write_set_logged,
)
from apps.portfolio.services.instruments import InstrumentRules
from apps.portfolio.services.ledger import Posting, balances_lock
from apps.portfolio.services.order_arrival import (
    OWN_RESERVE,
    ListReserve,
    order_arrival_check,
    order_arrival_execute,
)

if TYPE_CHECKING:
    from apps.portfolio.order_request import OrderRequest


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    """One validated order request, with everything needed to run it in any thread."""

    portfolio_id: int
    request: OrderRequest
    instrument: InstrumentRules
    client_order_id: str | None
    actor: Any
    actor_label: str
    source: str
    source_ip: str | None
    request_id: str
    extra: dict[str, Any]
    # When the order reached us: the book it meets is the one at arrival + latency, however
    # long it waited for its batch.
    arrived_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    # An order of an order list (OCO): the list, and how this order takes part in its reserve.
    order_list_id: int | None = None
    reserve: ListReserve = OWN_RESERVE


def order_submit(place: PlaceRequest) -> Order:
    """Run ``place`` in a group-commit batch, or alone in the caller's own transaction."""
    group = _group()
    if group is None or connection.in_atomic_block:
        # The caller's transaction must hold its order: it cannot commit on another thread.
        ticket: Ticket[PlaceRequest] = Ticket(place, threading.Lock())
        place_batch([ticket])
        return ticket.outcome()
    return group.submit(place)


_groups: dict[tuple[int, int], GroupCommit[PlaceRequest]] = {}
_groups_lock = threading.Lock()


def _group() -> GroupCommit[PlaceRequest] | None:
    size, lanes = settings.PAPER_ORDER_GROUP_MAX, settings.PAPER_ORDER_GROUP_LANES
    if size <= 1:
        return None
    with _groups_lock:
        group = _groups.get((size, lanes))
        if group is None:
            group = _groups[(size, lanes)] = GroupCommit(run_batch=place_batch, max_batch=size, lanes=lanes)
        return group


# -- one batch ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Locked:
    """A portfolio as the batch holds it: row-locked, with its balances and positions."""

    portfolio: Portfolio
    balances: dict[str, Balance]
    positions: dict[str, Position | None]  # by symbol; None: no row yet
    orders: dict[str, Order | int]  # by client order id: this batch's order, or an earlier one's id
    next_seq: int
    touched_positions: dict[str, Position] = field(default_factory=dict)


class _BatchSpoiled(Exception):
    """An order was refused after it had changed the batch's state in memory (a bug: refusals
    come before any posting). The batch must not be written; its orders run again alone."""

    def __init__(self, refusal: ApplicationError) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


def place_batch(tickets: list[Ticket[PlaceRequest]]) -> None:
    """Set each ticket's outcome; wake the callers as soon as the batch committed."""
    try:
        _place_in_one_transaction(tickets)
    except Exception as error:
        if len(tickets) == 1:
            tickets[0].fail(error.refusal if isinstance(error, _BatchSpoiled) else error)
            return
        for ticket in tickets:  # one transaction each: the bad order fails alone
            ticket.result = ticket.error = None
            place_batch([ticket])


def _place_in_one_transaction(tickets: list[Ticket[PlaceRequest]]) -> None:
    with transaction.atomic():
        transaction.on_commit(lambda: _finish(tickets))
        locked = _lock_portfolios([ticket.payload for ticket in tickets])
        events: list[fastpath.WriteSet] = []
        for ticket in tickets:
            state = locked.get(ticket.payload.portfolio_id)
            try:
                if state is None:
                    raise Portfolio.DoesNotExist(ticket.payload.portfolio_id)
                ticket.result = _place_one(ticket.payload, state, events)
            except (ApplicationError, Portfolio.DoesNotExist) as error:
                ticket.error = error
        if fastpath.enabled():
            _write(events, locked.values())


def _finish(tickets: list[Ticket[PlaceRequest]]) -> None:
    """First hook after the commit: wake the callers before the pushes go out."""
    for ticket in tickets:
        ticket.finish()


def _write(events: list[fastpath.WriteSet], locked: Any) -> None:
    postings = [Posting(portfolio=state.portfolio, balances=state.balances) for state in locked]
    balances = [balance for posting in postings for balance in posting.dirty_balances()]
    positions = [position for state in locked for position in state.touched_positions.values()]
    fastpath.work_write(rows=events, balances=balances, positions=positions)
    for posting in postings:
        posting.mark_clean()
    for event in events:
        write_set_logged(event)


def _lock_portfolios(requests: list[PlaceRequest]) -> dict[int, _Locked]:
    wanted: dict[int, list[PlaceRequest]] = {}
    for place in requests:
        wanted.setdefault(place.portfolio_id, []).append(place)
    if fastpath.enabled():
        states = fastpath.orders_open(
            wanted={
                portfolio_id: fastpath.OpenRequest(
                    orders=len(places),
                    symbols=frozenset(p.request.symbol for p in places),
                    client_order_ids=frozenset(p.client_order_id for p in places if p.client_order_id),
                )
                for portfolio_id, places in wanted.items()
            },
            async_commit=_async_commit(),
        )
        return {
            portfolio_id: _Locked(
                portfolio=state.portfolio,
                balances=state.balances,
                positions={p.request.symbol: state.positions.get(p.request.symbol) for p in wanted[portfolio_id]},
                orders=dict(state.existing_order_ids),
                next_seq=state.portfolio.order_seq - len(wanted[portfolio_id]) + 1,
            )
            for portfolio_id, state in states.items()
        }
    return {pid: state for pid in sorted(wanted) if (state := _lock_with_orm(pid, wanted[pid])) is not None}


def _lock_with_orm(portfolio_id: int, places: list[PlaceRequest]) -> _Locked | None:
    """Other databases (SQLite in embedded mode): the same state through the ORM."""
    table = Portfolio._meta.db_table
    rows = list(
        Portfolio.objects.raw(
            f"UPDATE {table} SET order_seq = order_seq + %s WHERE id = %s RETURNING *",  # noqa: S608 - constants only  # nosec B608
            [len(places), portfolio_id],
        )
    )
    if not rows:
        return None
    portfolio = rows[0]
    symbols = {p.request.symbol for p in places}
    client_ids = {p.client_order_id for p in places if p.client_order_id}
    positions = {p.symbol: p for p in Position.objects.filter(portfolio=portfolio, symbol__in=symbols)}
    existing = Order.objects.filter(portfolio=portfolio, client_order_id__in=client_ids)
    return _Locked(
        portfolio=portfolio,
        balances=balances_lock(portfolio=portfolio),
        positions={symbol: positions.get(symbol) for symbol in symbols},
        orders={order.client_order_id: order for order in existing},
        next_seq=portfolio.order_seq - len(places) + 1,
    )


def _async_commit() -> bool:
    return getattr(settings, "PAPER_ORDER_ASYNC_COMMIT", False) and connection.vendor == "postgresql"


# -- one order ------------------------------------------------------------------------------


def _place_one(place: PlaceRequest, state: _Locked, events: list[fastpath.WriteSet]) -> Order:
    request = place.request
    # Only a client order id can come back: without one there is nothing to compare later.
    fingerprint = request.fingerprint() if place.client_order_id else ""
    if place.client_order_id and place.client_order_id in state.orders:
        return _idempotent(state.orders[place.client_order_id], fingerprint)
    portfolio = state.portfolio
    seq, state.next_seq = state.next_seq, state.next_seq + 1
    latency = arrival.latency_sample_ms(
        seed=portfolio.seed, seq=seq, mean_ms=portfolio.latency_ms, jitter_ms=portfolio.latency_jitter_ms
    )
    book = books.book_for(exchange=portfolio.exchange, symbol=request.symbol, at_ms=place.arrived_ms + latency)
    order_arrival_check(portfolio=portfolio, request=request, instrument=place.instrument, book=book)
    order = Order(
        portfolio=portfolio,
        client_order_id=place.client_order_id or f"paper-{uuid.uuid4().hex[:24]}",
        request_hash=fingerprint,
        exchange=portfolio.exchange,
        symbol=request.symbol,
        base_asset=place.instrument.base_asset,
        quote_asset=place.instrument.quote_asset,
        side=request.side,
        order_type=request.order_type,
        time_in_force=request.time_in_force,
        quantity=request.quantity,
        quote_quantity=request.quote_quantity,
        price=request.price,
        stop_price=request.stop_price,
        trailing_delta_bps=request.trailing_delta_bps,
        order_list_id=place.order_list_id,
        latency_ms=latency,
        seq=seq,
        arrival_mid=book.mid if book is not None else None,
        source=place.source[:32],
        extra=place.extra,
    )
    work = OrderWork(
        portfolio=portfolio,
        order=order,
        posting=Posting(portfolio=portfolio, balances=state.balances),
        audit=AuditBatch(
            actor=place.actor, actor_label=place.actor_label, source_ip=place.source_ip, request_id=place.request_id
        ),
        known_position=state.positions[request.symbol],
        position_known=True,
    )
    try:
        order_arrival_execute(work=work, book=book, instrument=place.instrument, reserve=place.reserve)
    except ApplicationError as refusal:
        if work.posting.journals:
            raise _BatchSpoiled(refusal) from refusal
        raise
    if work.position is not None:
        state.positions[request.symbol] = state.touched_positions[request.symbol] = work.position
    state.orders[order.client_order_id] = order
    audit_order = {
        "category": "order",
        "action": "order.place",
        "portfolio_id": portfolio.pk,
        "exchange": portfolio.exchange,
        "symbol": order.symbol,
        "message": f"{order.side} {order.order_type} {order.quantity or order.quote_quantity} -> {order.status}",
        "data": {"client_order_id": order.client_order_id, "source": place.source, "fills": len(work.fills)},
    }
    if fastpath.enabled():
        events.append(order_work_prepare(work=work, event="order", audit_order=audit_order))
    else:
        order_work_flush(work=work, event="order", audit_order=audit_order)
    return order


def _idempotent(existing: Order | int, fingerprint: str) -> Order:
    if isinstance(existing, int):
        existing = Order.objects.get(pk=existing)
    if existing.request_hash != fingerprint:
        raise ConflictError(
            "Duplicate client order id with different order content.",
            code="duplicate_client_order_id",
            fields={"client_order_id": ["already used for a different order"]},
        )
    return existing
