"""Exchange order rules (pure): filters checked with each exchange's own codes and messages.

Every rejection is built here once: ``message`` is the exchange's own text, and ``fields``
holds the rule in words with the exchange's code beside it ("Quantity must be a multiple of
0.00001 (Binance LOT_SIZE)"), which the API, the ticket's form errors and its live check show.

Binance: -1013 "Filter failure: PRICE_FILTER" / "LOT_SIZE" / "NOTIONAL", -2010 for balance,
-1121 unknown symbol, -1102/-1106 parameter presence. KuCoin: 400100 parameter errors,
200004 balance, 900001 unknown symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.core.formatting import fmt_money, fmt_price, plain
from apps.portfolio.errors import InsufficientBalanceError, OrderRejectedError, OrderStateError

ZERO = Decimal("0")

ORDER_TYPES = (
    "market",
    "limit",
    "stop_loss",
    "stop_loss_limit",
    "take_profit",
    "take_profit_limit",
    "trailing_stop",
)
PRICED_TYPES = frozenset({"limit", "stop_loss_limit", "take_profit_limit"})
# Types that need a stop price (a trailing stop computes its own from the best price).
STOP_TYPES = frozenset({"stop_loss", "stop_loss_limit", "take_profit", "take_profit_limit"})
TRAILING_TYPES = frozenset({"trailing_stop"})
# Resting orders that wait for a trigger (reserve at placement, fill once triggered).
TRIGGERED_TYPES = STOP_TYPES | TRAILING_TYPES
# Binance's TRAILING_DELTA filter (spot): trailingDelta in basis points, 10..2000.
TRAILING_DELTA_MIN_BPS, TRAILING_DELTA_MAX_BPS = 10, 2000
TIME_IN_FORCE = ("GTC", "IOC", "FOK")


@dataclass(frozen=True, slots=True)
class Filters:
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal


EXCHANGE_LABELS = {"binance": "Binance", "kucoin": "KuCoin"}
FIELD_LABELS = {
    "quantity": "Quantity",
    "quote_quantity": "Amount",
    "price": "Limit price",
    "stop_price": "Stop price",
    "side": "Side",
    "order_type": "Order type",
    "time_in_force": "Time in force",
    "symbol": "Symbol",
    "trailing_delta_bps": "Trail",
}
NEEDS_WORDS = {
    "quantity": "Quantity must be a number above 0",
    "quote_quantity": "Amount must be a number above 0",
    "price": "This order type needs a limit price above 0",
    "stop_price": "This order type needs a stop price above 0",
    "side": "Side must be buy or sell",
    "trailing_delta_bps": "A trailing stop needs its trail in basis points",
}


def explained(exchange: str, words: str, label: str) -> str:
    """The rule in words with the exchange's own code beside it: the one text the API's
    ``fields``, the ticket's form errors and its live check show."""
    return f"{words} ({EXCHANGE_LABELS.get(exchange, exchange)} {label})"


def _fields(exchange: str, *, field: str, words: str, label: str) -> dict[str, list[str]]:
    return {field: [explained(exchange, words, label)]}


def _reject(exchange: str, *, message: str, code: str, field: str, words: str, label: str = "") -> OrderRejectedError:
    # ``message`` stays the exchange's own (API clients and bot logs match on it); the field
    # carries the rule in words. Binance's -1013 is labelled by its filter name, the rest by code.
    fields = _fields(exchange, field=field, words=words, label=label or code)
    return OrderRejectedError(message, code=code, exchange=exchange, fields=fields)


def reject_param(exchange: str, name: str) -> OrderRejectedError:
    words = NEEDS_WORDS.get(name, f"{FIELD_LABELS.get(name, name)} is missing or not a number")
    if exchange == "kucoin":
        return _reject(exchange, message=f"Parameter Error: {name}", code="400100", field=name, words=words)
    message = f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    return _reject(exchange, message=message, code="-1102", field=name, words=words)


def reject_unexpected(exchange: str, name: str) -> OrderRejectedError:
    words = f"{FIELD_LABELS.get(name, name)} is not used by this order type"
    if exchange == "kucoin":
        message = f"Parameter Error: {name} is not allowed here"
        return _reject(exchange, message=message, code="400100", field=name, words=words)
    return _reject(
        exchange, message=f"Parameter '{name}' sent when not required.", code="-1106", field=name, words=words
    )


def reject_symbol(exchange: str) -> OrderRejectedError:
    words = f"This symbol is not listed on {EXCHANGE_LABELS.get(exchange, exchange)}"
    if exchange == "kucoin":
        return _reject(exchange, message="symbol does not exist", code="900001", field="symbol", words=words)
    return _reject(exchange, message="Invalid symbol.", code="-1121", field="symbol", words=words)


def reject_balance(
    exchange: str,
    *,
    asset: str = "",
    needed: Decimal | None = None,
    available: Decimal | None = None,
    field: str = "quantity",
) -> InsufficientBalanceError:
    if asset and needed is not None and available is not None:
        words = (
            f"Not enough {asset}: this order needs {fmt_money(needed, asset)} {asset}, "
            f"{fmt_money(available, asset)} {asset} is available"
        )
    else:
        words = "Not enough balance for this order"
    if exchange == "kucoin":
        message, code = "Balance insufficient!", "200004"
    else:
        message, code = "Account has insufficient balance for requested action.", "-2010"
    fields = _fields(exchange, field=field, words=words, label=code)
    return InsufficientBalanceError(message, code=code, exchange=exchange, fields=fields)


def trigger_words(*, order_type: str, side: str, last_price: Decimal | None, tick: Decimal | None = None) -> str:
    """Which side of the last price a stop must sit on (resting_rules.stop_triggered's mirror)."""
    kind = "stop" if order_type.startswith("stop_loss") else "take-profit"
    above = (side == "buy") == order_type.startswith("stop_loss")
    where = "above" if above else "below"
    last = f" {fmt_price(last_price, tick)}" if last_price is not None else ""
    return f"A {side} {kind} would trigger at once: its stop price must be {where} the last price{last}"


def reject_would_trigger(
    exchange: str,
    *,
    order_type: str = "stop_loss",
    side: str = "sell",
    last_price: Decimal | None = None,
    tick: Decimal | None = None,
) -> OrderRejectedError:
    words = trigger_words(order_type=order_type, side=side, last_price=last_price, tick=tick)
    if exchange == "kucoin":
        message = "Parameter Error: stopPrice would trigger immediately"
        return _reject(exchange, message=message, code="400100", field="stop_price", words=words)
    return _reject(exchange, message="Order would immediately trigger.", code="-2021", field="stop_price", words=words)


def _price_failure(exchange: str, field: str, tick: Decimal) -> OrderRejectedError:
    words = f"{FIELD_LABELS[field]} must be a multiple of {plain(tick)}"
    if exchange == "kucoin":
        return _reject(exchange, message="Price increment invalid.", code="400100", field=field, words=words)
    return _reject(
        exchange, message="Filter failure: PRICE_FILTER", code="-1013", field=field, words=words, label="PRICE_FILTER"
    )


def _lot_failure(exchange: str, message: str, words: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _reject(exchange, message=message, code="400100", field="quantity", words=words)
    return _reject(
        exchange, message="Filter failure: LOT_SIZE", code="-1013", field="quantity", words=words, label="LOT_SIZE"
    )


def _notional_failure(exchange: str, *, minimum: Decimal, notional: Decimal, field: str) -> OrderRejectedError:
    words = f"Order value must be at least {plain(minimum)} (this one is {fmt_money(notional, None)})"
    if exchange == "kucoin":
        message = "Order funds below the minimum requirement."
        return _reject(exchange, message=message, code="400100", field=field, words=words)
    return _reject(
        exchange, message="Filter failure: NOTIONAL", code="-1013", field=field, words=words, label="NOTIONAL"
    )


def _multiple(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or value % step == 0


def check_shape(
    *,
    exchange: str,
    order_type: str,
    time_in_force: str,
    side: str,
    quantity: Decimal | None,
    quote_quantity: Decimal | None,
    price: Decimal | None,
    stop_price: Decimal | None,
    trailing_delta_bps: int | None = None,
) -> None:
    """Which parameters an order type needs, before any filter runs."""
    if side not in ("buy", "sell"):
        raise reject_param(exchange, "side")
    if order_type not in ORDER_TYPES:
        message = "Invalid orderType." if exchange != "kucoin" else "Parameter Error: type"
        code = "-1116" if exchange != "kucoin" else "400100"
        words = "Order type must be one of " + ", ".join(ORDER_TYPES)
        raise _reject(exchange, message=message, code=code, field="order_type", words=words)
    if time_in_force not in TIME_IN_FORCE:
        message = "Invalid timeInForce." if exchange != "kucoin" else "Parameter Error: timeInForce"
        code = "-1115" if exchange != "kucoin" else "400100"
        words = "Time in force must be GTC, IOC or FOK"
        raise _reject(exchange, message=message, code=code, field="time_in_force", words=words)
    if quote_quantity is not None and order_type != "market":
        raise reject_unexpected(exchange, "quote_quantity")
    if (quantity is None) == (quote_quantity is None) and order_type == "market":
        raise reject_param(exchange, "quantity")
    if quantity is None and order_type != "market":
        raise reject_param(exchange, "quantity")
    for name, value in (("quantity", quantity), ("quote_quantity", quote_quantity)):
        if value is not None and value <= 0:
            raise reject_param(exchange, name)
    if order_type in PRICED_TYPES and (price is None or price <= 0):
        raise reject_param(exchange, "price")
    if order_type not in PRICED_TYPES and price is not None:
        raise reject_unexpected(exchange, "price")
    if order_type in STOP_TYPES and (stop_price is None or stop_price <= 0):
        raise reject_param(exchange, "stop_price")
    if order_type not in STOP_TYPES and stop_price is not None:
        raise reject_unexpected(exchange, "stop_price")
    _check_trailing(exchange=exchange, order_type=order_type, trailing_delta_bps=trailing_delta_bps)


def _check_trailing(*, exchange: str, order_type: str, trailing_delta_bps: int | None) -> None:
    """A trailing stop needs its delta; no other type takes one. KuCoin spot has no trailing
    orders at all (the exchange's own parameter error)."""
    if order_type not in TRAILING_TYPES:
        if trailing_delta_bps is not None:
            raise reject_unexpected(exchange, "trailing_delta_bps")
        return
    if exchange == "kucoin":
        words = "KuCoin spot has no trailing stop orders"
        raise _reject(exchange, message="Parameter Error: type", code="400100", field="order_type", words=words)
    if trailing_delta_bps is None:
        raise reject_param(exchange, "trailing_delta_bps")
    if not TRAILING_DELTA_MIN_BPS <= trailing_delta_bps <= TRAILING_DELTA_MAX_BPS:
        words = f"The trail must be {TRAILING_DELTA_MIN_BPS} to {TRAILING_DELTA_MAX_BPS} basis points"
        raise _reject(
            exchange,
            message="Filter failure: TRAILING_DELTA",
            code="-1013",
            field="trailing_delta_bps",
            words=words,
            label="TRAILING_DELTA",
        )


def check_filters(
    *,
    exchange: str,
    filters: Filters,
    quantity: Decimal | None,
    quote_quantity: Decimal | None,
    price: Decimal | None,
    stop_price: Decimal | None,
    reference_price: Decimal | None,
) -> None:
    """Tick, step, min/max quantity and min notional. ``reference_price`` values market orders
    (the exchange uses a recent average price for them)."""
    for name, value in (("price", price), ("stop_price", stop_price)):
        if value is not None and not _multiple(value, filters.tick_size):
            raise _price_failure(exchange, name, filters.tick_size)
    if quantity is not None:
        if not _multiple(quantity, filters.step_size):
            words = f"Quantity must be a multiple of {plain(filters.step_size)}"
            raise _lot_failure(exchange, "Order size increment invalid.", words)
        if quantity < filters.min_qty:
            words = f"Quantity must be at least {plain(filters.min_qty)}"
            raise _lot_failure(exchange, "Order size below the minimum requirement.", words)
        if filters.max_qty > 0 and quantity > filters.max_qty:
            words = f"Quantity must be at most {plain(filters.max_qty)}"
            raise _lot_failure(exchange, "Order size above the maximum requirement.", words)
    notional = quote_quantity
    if notional is None and quantity is not None:
        valued_at = price or stop_price or reference_price
        notional = quantity * valued_at if valued_at is not None else None
    if notional is not None and notional < filters.min_notional:
        field = "quote_quantity" if quote_quantity is not None else "quantity"
        raise _notional_failure(exchange, minimum=filters.min_notional, notional=notional, field=field)


def reject_unknown_order(exchange: str) -> OrderStateError:
    if exchange == "kucoin":
        message, code = "order_not_exist_or_not_allow_to_cancel", "400100"
    else:
        message, code = "Unknown order sent.", "-2011"
    words = "This order is not open (already filled, canceled or unknown)"
    fields = _fields(exchange, field="order", words=words, label=code)
    return OrderStateError(message, code=code, exchange=exchange, fields=fields)
