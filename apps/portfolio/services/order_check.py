"""The ticket's live check: would ``order_place`` accept this order now, and what would it cost?

One path with the service: the same request build (shape), instrument rules, arrival check
(filters against the live book, a stop that would trigger at once) and funds rules
(``market_need`` / ``reserve_need``) that placement applies, then the free balance. Nothing
is written: the walk runs on a copy of the book less what the shared liquidity store says our
orders already took (a peek), takes nothing, and no funds are reserved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from apps.market.events import BookSnapshot
from apps.portfolio import books, resting_rules, rules
from apps.portfolio import fills as engine
from apps.portfolio.liquidity import liquidity_store
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.order_request import OrderRequest
from apps.portfolio.rules import reject_balance
from apps.portfolio.services.execution import fee_schedule
from apps.portfolio.services.instruments import InstrumentRules
from apps.portfolio.services.order_arrival import market_need, order_arrival_check, reserve_need

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What the order would do on the current book. ``cost`` and ``fee`` are in quote."""

    spend_asset: str
    needed: Decimal
    available: Decimal
    quantity: Decimal | None
    cost: Decimal | None
    fee: Decimal | None
    fee_rate: Decimal
    liquidity: str
    avg_price: Decimal | None
    slippage_bps: Decimal | None = None  # a walk's average against the arrival mid
    # A market order the book (or the slippage cap) cannot fill in full: the rest would expire.
    partial: bool = False
    stopped_by: str = ""


def free_balance(*, portfolio: Portfolio, asset: str) -> Decimal:
    row = portfolio.balances.filter(asset=asset).first()
    return row.free if row is not None else ZERO


def order_check(*, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules) -> OrderPreview:
    """Raises what ``order_place`` would raise for the exchange's rules and the balance
    (OrderRejectedError, InsufficientBalanceError, MarketDataUnavailableError); returns the
    preview otherwise."""
    book = books.book_for(exchange=portfolio.exchange, symbol=request.symbol)
    order_arrival_check(portfolio=portfolio, request=request, instrument=instrument, book=book)
    preview = _preview(portfolio=portfolio, request=request, instrument=instrument, book=book)
    if preview.available < preview.needed:
        field = "quote_quantity" if request.quote_quantity is not None else "quantity"
        raise reject_balance(
            portfolio.exchange,
            asset=preview.spend_asset,
            needed=preview.needed,
            available=preview.available,
            field=field,
        )
    return preview


def _preview(
    *, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules, book: BookSnapshot | None
) -> OrderPreview:
    schedule = fee_schedule(portfolio)
    probe = _walk(portfolio=portfolio, request=request, instrument=instrument, book=book)
    cost: Decimal | None
    avg: Decimal | None
    slippage: Decimal | None
    if request.order_type == "market":
        if probe is None:  # order_arrival_check refuses a market order without a book
            raise RuntimeError("a market order was checked without a book")
        asset = instrument.quote_asset if request.side == "buy" else instrument.base_asset
        need = market_need(
            side=request.side, quantity=request.quantity, quote_quantity=request.quote_quantity, execution=probe
        )
        needed = need if need is not None else ZERO
        quantity, cost, avg, liquidity = probe.quantity, probe.quote, probe.avg_price, engine.TAKER
        slippage, partial, stopped_by = probe.slippage_bps, probe.exhausted, probe.stopped_by
    else:
        if request.quantity is None:  # check_shape: every non-market order has one
            raise RuntimeError("a non-market order was checked without a quantity")
        asset, needed = reserve_need(
            order=_unsaved_order(portfolio=portfolio, request=request, instrument=instrument),
            max_slippage_bps=portfolio.max_slippage_bps,
        )
        quantity, slippage, partial, stopped_by = request.quantity, None, False, ""
        # A marketable limit takes the book now (taker); a resting one fills at its price (maker);
        # a stop-market fills around its stop once triggered (taker).
        if probe is not None and probe.quantity:
            avg, liquidity, slippage = probe.avg_price, engine.TAKER, probe.slippage_bps
        elif request.price is not None and request.order_type == "limit":
            avg, liquidity = request.price, engine.MAKER
        else:
            avg, liquidity = request.price or request.stop_price, engine.TAKER
        cost = engine.q18(quantity * avg) if avg is not None else None
    rate = schedule.rate(liquidity)
    return OrderPreview(
        spend_asset=asset,
        needed=needed,
        available=free_balance(portfolio=portfolio, asset=asset),
        quantity=quantity,
        cost=cost,
        fee=engine.q18(cost * rate) if cost is not None else None,
        fee_rate=rate,
        liquidity=liquidity,
        avg_price=avg,
        slippage_bps=slippage,
        partial=partial,
        stopped_by=stopped_by,
    )


def _unsaved_order(*, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules) -> Order:
    """The order as placement would build it, never saved: what it reserves is asked of the
    arrival path's own rule (``reserve_need``)."""
    trailing = request.order_type in rules.TRAILING_TYPES
    return Order(
        portfolio=portfolio,
        exchange=portfolio.exchange,
        symbol=request.symbol,
        base_asset=instrument.base_asset,
        quote_asset=instrument.quote_asset,
        side=request.side,
        order_type=request.order_type,
        quantity=request.quantity,
        price=request.price,
        stop_price=request.stop_price,
        trailing_delta_bps=request.trailing_delta_bps,
        trail_best=books.last_price(exchange=portfolio.exchange, symbol=request.symbol) if trailing else None,
    )


def _walk(
    *, portfolio: Portfolio, request: OrderRequest, instrument: InstrumentRules, book: BookSnapshot | None
) -> engine.Execution | None:
    """The walk the order would take now (a market order, or a marketable limit), on the book
    less what our orders already took there (the shared store's peek: it takes nothing)."""
    if book is None:
        return None
    if request.order_type == "limit":
        if request.price is None or not resting_rules.is_marketable(side=request.side, price=request.price, book=book):
            return None
        limit, slippage = request.price, None
    elif request.order_type == "market":
        limit, slippage = None, portfolio.max_slippage_bps
    else:
        return None
    return engine.walk_book(
        book=_free_book(book, side=request.side),
        side=request.side,
        quantity=request.quantity,
        quote_quantity=request.quote_quantity,
        limit_price=limit,
        max_slippage_bps=slippage,
        step_size=instrument.filters.step_size,
    )


def _free_book(book: BookSnapshot, *, side: str) -> BookSnapshot:
    """``book`` with the side a ``side`` order takes shrunk to what is free at each level."""
    book_side, levels = ("ask", book.asks) if side == "buy" else ("bid", book.bids)
    free = liquidity_store().free_levels(book=book, book_side=book_side)
    shrunk = tuple((price, size) for (price, _), size in zip(levels, free, strict=True))
    return replace(book, asks=shrunk) if side == "buy" else replace(book, bids=shrunk)
