"""What a new order does when it reaches the paper exchange (FILL_REALISM rules 1-4).

The exchange's market rules first (filters against the arrival book, a stop that would
trigger at once), then by type: a market order walks the book and expires what it cannot
fill; a limit order reserves its funds, takes what is marketable (all or nothing for FOK)
and rests or expires the rest; a stop reserves its funds and waits for its trigger
(``resting``). Callers hold ``CONSUMED_LOCK`` around ``order_arrival_execute``.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from apps.portfolio import books, resting_rules, rules
from apps.portfolio import fills as engine
from apps.portfolio.errors import MarketDataUnavailableError
from apps.portfolio.expiry import expiry_reason
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services.execution import OrderWork, apply_execution, lock_funds, release_funds, status_after
from apps.portfolio.services.instruments import InstrumentRules

if TYPE_CHECKING:
    from apps.portfolio.order_request import OrderRequest

BPS = Decimal("10000")

# Liquidity our orders took, per process, until the book level refreshes (FILL_REALISM rule 2).
# Orders of one process may run in several threads: a walk reads and updates CONSUMED, so
# walks hold CONSUMED_LOCK (pure CPU work, so it costs nothing under the GIL).
CONSUMED = engine.ConsumedLiquidity()
CONSUMED_LOCK = threading.Lock()


def order_arrival_check(*, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules, book: Any) -> None:
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
    if request.stop_price is not None and resting_rules.would_trigger_now(
        order_type=request.order_type, side=request.side, stop_price=request.stop_price, last_price=last
    ):
        raise rules.reject_would_trigger(
            exchange,
            order_type=request.order_type,
            side=request.side,
            last_price=last,
            tick=instrument.filters.tick_size,
        )


def market_funds(
    *,
    side: str,
    quantity: Decimal | None,
    quote_quantity: Decimal | None,
    probe: engine.Execution,
    base_asset: str,
    quote_asset: str,
) -> tuple[str, Decimal]:
    """What a market order must have free: the quote it spends (a buy) or the base it sells,
    as the dry-run walk ``probe`` prices it. Also the ticket's live check (order_check)."""
    if side == "buy":
        return quote_asset, quote_quantity or probe.quote
    return base_asset, quantity or probe.quantity


def resting_funds(
    *,
    side: str,
    quantity: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
    base_asset: str,
    quote_asset: str,
    max_slippage_bps: Decimal,
) -> tuple[str, Decimal]:
    """What a limit or stop order reserves (asset, amount). Also the ticket's live check."""
    if side == "sell":
        return base_asset, engine.q18(quantity)
    if price is not None:
        return quote_asset, engine.q18(quantity * price)
    # A buy stop-market reserves its quantity at the stop plus the slippage band; the
    # triggered walk never spends more than this.
    band = 1 + max_slippage_bps / BPS
    return quote_asset, engine.q18(quantity * (stop_price or Decimal(0)) * band)


def _require(*, work: OrderWork, asset: str, amount: Decimal) -> None:
    balance = work.posting.balances.get(asset)
    if balance is None or balance.free < amount:
        free = balance.free if balance is not None else Decimal(0)
        raise rules.reject_balance(work.order.exchange, asset=asset, needed=amount, available=free)


def order_arrival_execute(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
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
    asset, need = market_funds(
        side=order.side,
        quantity=order.quantity,
        quote_quantity=order.quote_quantity,
        probe=probe,
        base_asset=order.base_asset,
        quote_asset=order.quote_asset,
    )
    # Checked, not reserved: the order completes within this transaction, under the
    # portfolio lock, so a reservation would be a lock and a release journal nobody can
    # ever observe (two ledger writes per order for nothing).
    _require(work=work, asset=asset, amount=need)
    execution = engine.walk_book(**walk)
    apply_execution(work=work, execution=execution)
    done = status_after(order, exhausted=execution.exhausted)
    # A market order never rests: whatever the book could not fill expires, and says why.
    order.status = Order.Status.FILLED if done == Order.Status.FILLED else Order.Status.EXPIRED
    if order.status == Order.Status.EXPIRED:
        requested = order.quantity if order.quantity is not None else None
        order.reason = expiry_reason(
            execution=execution, requested=requested, max_slippage_bps=work.portfolio.max_slippage_bps
        )[:200]


def _lock_for_resting(*, work: OrderWork) -> None:
    order = work.order
    asset, amount = resting_funds(
        side=order.side,
        quantity=order.quantity,
        price=order.price,
        stop_price=order.stop_price,
        base_asset=order.base_asset,
        quote_asset=order.quote_asset,
        max_slippage_bps=work.portfolio.max_slippage_bps,
    )
    _require(work=work, asset=asset, amount=amount)
    lock_funds(posting=work.posting, order=order, asset=asset, amount=amount)


def _execute_limit(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
    order = work.order
    _lock_for_resting(work=work)
    marketable = book is not None and resting_rules.is_marketable(side=order.side, price=order.price, book=book)
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
