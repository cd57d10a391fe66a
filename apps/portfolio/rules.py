"""Exchange order rules (pure): filters checked with each exchange's own codes and messages.

Binance: -1013 "Filter failure: PRICE_FILTER" / "LOT_SIZE" / "NOTIONAL", -2010 for balance,
-1121 unknown symbol, -1102/-1106 parameter presence. KuCoin: 400100 parameter errors,
200004 balance, 900001 unknown symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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


def _binance(message: str, code: str, field: str) -> OrderRejectedError:
    return OrderRejectedError(message, code=code, exchange="binance", fields={field: [message]})


def _kucoin(message: str, code: str, field: str) -> OrderRejectedError:
    return OrderRejectedError(message, code=code, exchange="kucoin", fields={field: [message]})


def reject_param(exchange: str, name: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin(f"Parameter Error: {name}", "400100", name)
    return _binance(f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.", "-1102", name)


def reject_unexpected(exchange: str, name: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin(f"Parameter Error: {name} is not allowed here", "400100", name)
    return _binance(f"Parameter '{name}' sent when not required.", "-1106", name)


def reject_symbol(exchange: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin("symbol does not exist", "900001", "symbol")
    return _binance("Invalid symbol.", "-1121", "symbol")


def reject_balance(exchange: str) -> InsufficientBalanceError:
    if exchange == "kucoin":
        return InsufficientBalanceError(
            "Balance insufficient!", code="200004", exchange="kucoin", fields={"quantity": ["Balance insufficient!"]}
        )
    message = "Account has insufficient balance for requested action."
    return InsufficientBalanceError(message, code="-2010", exchange="binance", fields={"quantity": [message]})


def reject_would_trigger(exchange: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin("Parameter Error: stopPrice would trigger immediately", "400100", "stop_price")
    return _binance("Order would immediately trigger.", "-2021", "stop_price")


def _price_failure(exchange: str, field: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin("Price increment invalid.", "400100", field)
    return _binance("Filter failure: PRICE_FILTER", "-1013", field)


def _lot_failure(exchange: str, message: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin(message, "400100", "quantity")
    return _binance("Filter failure: LOT_SIZE", "-1013", "quantity")


def _notional_failure(exchange: str) -> OrderRejectedError:
    if exchange == "kucoin":
        return _kucoin("Order funds below the minimum requirement.", "400100", "quantity")
    return _binance("Filter failure: NOTIONAL", "-1013", "quantity")


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
        raise OrderRejectedError(
            message,
            code="-1116" if exchange != "kucoin" else "400100",
            exchange=exchange,
            fields={"order_type": [message]},
        )
    if time_in_force not in TIME_IN_FORCE:
        message = "Invalid timeInForce." if exchange != "kucoin" else "Parameter Error: timeInForce"
        raise OrderRejectedError(
            message,
            code="-1115" if exchange != "kucoin" else "400100",
            exchange=exchange,
            fields={"time_in_force": [message]},
        )
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
        raise _kucoin("Parameter Error: type", "400100", "order_type")
    if trailing_delta_bps is None:
        raise reject_param(exchange, "trailing_delta_bps")
    if not TRAILING_DELTA_MIN_BPS <= trailing_delta_bps <= TRAILING_DELTA_MAX_BPS:
        raise _binance("Filter failure: TRAILING_DELTA", "-1013", "trailing_delta_bps")


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
            raise _price_failure(exchange, name)
    if quantity is not None:
        if not _multiple(quantity, filters.step_size):
            raise _lot_failure(exchange, "Order size increment invalid.")
        if quantity < filters.min_qty:
            raise _lot_failure(exchange, "Order size below the minimum requirement.")
        if filters.max_qty > 0 and quantity > filters.max_qty:
            raise _lot_failure(exchange, "Order size above the maximum requirement.")
    notional = quote_quantity
    if notional is None and quantity is not None:
        valued_at = price or stop_price or reference_price
        notional = quantity * valued_at if valued_at is not None else None
    if notional is not None and notional < filters.min_notional:
        raise _notional_failure(exchange)


def reject_unknown_order(exchange: str) -> OrderStateError:
    if exchange == "kucoin":
        message, code = "order_not_exist_or_not_allow_to_cancel", "400100"
    else:
        message, code = "Unknown order sent.", "-2011"
    return OrderStateError(message, code=code, exchange=exchange, fields={"order": [message]})
