"""What a new order does when it reaches the paper exchange (FILL_REALISM rules 1-4).

The exchange's market rules first (filters against the arrival book, a stop that would
trigger at once), then by type: a market order walks the book and expires what it cannot
fill; a limit order reserves its funds, takes what is marketable (all or nothing for FOK)
and rests or expires the rest; a stop reserves its funds and waits for its trigger
(``resting``).

Walks take liquidity from the process's shared store (``apps.portfolio.liquidity``), which
another process may be walking at the same moment, so only what a walk was really granted
tells what the order costs and whether a FOK order fills: the checks come after the walk,
and an order refused (or a FOK order short) after its walk gives the liquidity back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from apps.portfolio import books, resting_rules, rules
from apps.portfolio import fills as engine
from apps.portfolio.errors import MarketDataUnavailableError, OrderRejectedError
from apps.portfolio.expiry import expiry_reason
from apps.portfolio.liquidity import LiquidityStore, liquidity_store
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services.execution import OrderWork, apply_execution, lock_funds, release_funds, status_after
from apps.portfolio.services.instruments import InstrumentRules

if TYPE_CHECKING:
    from apps.portfolio.order_request import OrderRequest

BPS = Decimal("10000")


def order_arrival_check(*, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules, book: Any) -> None:
    exchange = portfolio.exchange
    last = books.last_price(exchange=exchange, symbol=request.symbol)
    if request.order_type in rules.TRAILING_TYPES and last is None:
        # The trail starts at the last trade: without one there is nothing to trail.
        raise MarketDataUnavailableError(f"No recent trade for {exchange}:{request.symbol}; try again shortly.")
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


def _require(*, work: OrderWork, asset: str, amount: Decimal) -> None:
    balance = work.posting.balances.get(asset)
    if balance is None or balance.free < amount:
        raise _short(work=work, asset=asset, amount=amount)


def _short(*, work: OrderWork, asset: str, amount: Decimal) -> OrderRejectedError:
    """The balance refusal, saying what the order needs and what is free."""
    balance = work.posting.balances.get(asset)
    free = balance.free if balance is not None else Decimal(0)
    return rules.reject_balance(work.order.exchange, asset=asset, needed=amount, available=free)


@dataclass(frozen=True, slots=True)
class ListReserve:
    """How an order of an order list reserves: the list's first order holds the reserve for
    all (at least ``floor``, what its siblings need); the others reserve nothing (``shared``)."""

    shared: bool = False
    floor: Decimal = Decimal("0")


OWN_RESERVE = ListReserve()


def order_arrival_execute(
    *, work: OrderWork, book: Any, instrument: InstrumentRules, reserve: ListReserve = OWN_RESERVE
) -> None:
    order = work.order
    if order.order_type in rules.TRAILING_TYPES:
        order.trail_best = books.last_price(exchange=order.exchange, symbol=order.symbol)
    if order.order_type == "market":
        _execute_market(work=work, book=book, instrument=instrument)
    elif order.order_type in rules.TRIGGERED_TYPES:
        _lock_for_resting(work=work, reserve=reserve)
    else:
        _execute_limit(work=work, book=book, instrument=instrument, reserve=reserve)


def reserve_need(*, order: Order, max_slippage_bps: Decimal) -> tuple[str, Decimal]:
    """(asset, amount) a resting order reserves: a sell its quantity; a priced buy quantity x
    price; a buy stop-market its quantity at the trigger plus the slippage band (the
    triggered walk never spends more). A buy trailing stop's trigger only falls, so its
    trigger at placement bounds it."""
    if order.side == "sell":
        return order.base_asset, engine.q18(order.quantity)
    if order.price is not None:
        return order.quote_asset, engine.q18(order.quantity * order.price)
    trigger = resting_rules.trigger_level(resting_spec(order), best_price=order.trail_best)
    band = 1 + max_slippage_bps / BPS
    return order.quote_asset, engine.q18(order.quantity * trigger * band)


def resting_spec(order: Order) -> resting_rules.ExitSpec:
    return resting_rules.ExitSpec(
        order_type=order.order_type,
        side=order.side,
        stop_price=order.stop_price,
        trailing_delta_bps=order.trailing_delta_bps,
    )


def _execute_market(*, work: OrderWork, book: Any, instrument: InstrumentRules) -> None:
    order = work.order
    store = liquidity_store()
    walk = {
        "book": book,
        "side": order.side,
        "quantity": order.quantity,
        "quote_quantity": order.quote_quantity,
        "step_size": instrument.filters.step_size,
        "consumed": store,
        "max_slippage_bps": work.portfolio.max_slippage_bps,
    }
    # Checked, not reserved: the order completes within this transaction, under the
    # portfolio lock, so a reservation would be a lock and a release journal nobody can
    # ever observe (two ledger writes per order for nothing). An order that states what it
    # spends is checked before it walks; otherwise the walk's own total is checked, and a
    # walk that cannot be paid gives its liquidity back (no peek first: that would be one
    # more round trip to a shared store for every order, to refuse a few).
    stated = _stated_need(order)
    if stated is not None:
        _require(work=work, asset=_pays_in(order), amount=stated)
    execution = engine.walk_book(**walk)
    if not _can_pay(work=work, execution=execution):
        liquidity_give_back(store=store, book=book, execution=execution)
        raise _short(work=work, asset=_pays_in(order), amount=_needs(order, execution))
    apply_execution(work=work, execution=execution)
    done = status_after(order, exhausted=execution.exhausted)
    # A market order never rests: whatever the book could not fill expires, and says why.
    order.status = Order.Status.FILLED if done == Order.Status.FILLED else Order.Status.EXPIRED
    if order.status == Order.Status.EXPIRED:
        requested = order.quantity if order.quantity is not None else None
        order.reason = expiry_reason(
            execution=execution, requested=requested, max_slippage_bps=work.portfolio.max_slippage_bps
        )[:200]


def _pays_in(order: Order) -> str:
    return order.quote_asset if order.side == "buy" else order.base_asset


def market_need(
    *, side: str, quantity: Decimal | None, quote_quantity: Decimal | None, execution: engine.Execution | None
) -> Decimal | None:
    """What a market order spends: quote for a buy, base for a sell; what it states (a buy by
    quote, a sell), else its walk's total (None without one). The ticket's live check
    (services/order_check.py) asks the same."""
    stated = quote_quantity if side == "buy" else quantity
    if stated is not None or execution is None:
        return stated
    return execution.quote if side == "buy" else execution.quantity


def _stated_need(order: Order) -> Decimal | None:
    """What the order spends whatever the book: quote for a buy by quote, base for a sell."""
    return market_need(side=order.side, quantity=order.quantity, quote_quantity=order.quote_quantity, execution=None)


def _needs(order: Order, execution: engine.Execution) -> Decimal:
    need = market_need(
        side=order.side, quantity=order.quantity, quote_quantity=order.quote_quantity, execution=execution
    )
    if need is None:  # with an execution there is always a total
        raise RuntimeError(f"no total for order {order.pk}'s execution")
    return need


def _can_pay(*, work: OrderWork, execution: engine.Execution) -> bool:
    balance = work.posting.balances.get(_pays_in(work.order))
    return balance is not None and balance.free >= _needs(work.order, execution)


def liquidity_give_back(*, store: LiquidityStore, book: Any, execution: engine.Execution) -> None:
    """Return what a walk of ``book`` took (an order refused after its walk keeps nothing)."""
    levels, book_side = (book.asks, "ask") if execution.side == "buy" else (book.bids, "bid")
    displayed = dict(levels)
    for part in execution.slices:
        store.give_back(
            book=book, book_side=book_side, price=part.price, displayed=displayed[part.price], quantity=part.quantity
        )


def _lock_for_resting(*, work: OrderWork, reserve: ListReserve) -> None:
    if reserve.shared:
        return  # the list's first order already reserved for this one
    asset, amount = reserve_need(order=work.order, max_slippage_bps=work.portfolio.max_slippage_bps)
    amount = max(amount, reserve.floor)
    _require(work=work, asset=asset, amount=amount)
    lock_funds(posting=work.posting, order=work.order, asset=asset, amount=amount)


def _execute_limit(*, work: OrderWork, book: Any, instrument: InstrumentRules, reserve: ListReserve) -> None:
    order = work.order
    store = liquidity_store()
    _lock_for_resting(work=work, reserve=reserve)
    marketable = book is not None and resting_rules.is_marketable(side=order.side, price=order.price, book=book)
    if marketable:
        execution = engine.walk_book(
            book=book,
            side=order.side,
            quantity=order.quantity,
            limit_price=order.price,
            step_size=instrument.filters.step_size,
            consumed=store,
        )
        if order.time_in_force == "FOK" and execution.quantity < order.quantity:
            # All or nothing: a walk the book (after every process's takes) could not fill in
            # full gives back what it took. No depth check first: that would be one more round
            # trip to the shared store for every FOK order.
            liquidity_give_back(store=store, book=book, execution=execution)
        else:
            apply_execution(work=work, execution=execution)
    order.status = status_after(order, exhausted=True)
    if order.is_open and order.time_in_force in ("IOC", "FOK"):
        order.status = Order.Status.EXPIRED
    if not order.is_open:
        release_funds(posting=work.posting, order=order, memo=f"limit order {order.status}")
