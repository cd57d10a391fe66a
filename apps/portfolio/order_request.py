"""One order request, built and shape-checked once at the edge (pure): what the order service
and the placement batch take."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from apps.core.money import to_decimal
from apps.portfolio import rules


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
    trailing_delta_bps: int | None = None

    def fingerprint(self) -> str:
        # A field that is unset is left out, so fingerprints stored before it existed still match.
        body = {
            k: (str(v.normalize()) if isinstance(v, Decimal) else v)
            for k, v in asdict(self).items()
            if not (k == "trailing_delta_bps" and v is None)
        }
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


def _int_or_none(exchange: str, name: str, value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise rules.reject_param(exchange, name)
    return int(value)


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
    trailing_delta_bps: object = None,
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
        trailing_delta_bps=_int_or_none(exchange, "trailing_delta_bps", trailing_delta_bps),
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
        trailing_delta_bps=request.trailing_delta_bps,
    )
    return request
