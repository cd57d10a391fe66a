"""Display formatting for the pages: prices with precision by magnitude, as static/js/live.js does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def price(value: Any) -> str:
    number = _decimal(value)
    if number is None:
        return "—"
    magnitude = abs(number)
    places = 2 if magnitude >= 1000 or magnitude == 0 else 4 if magnitude >= 1 else 6
    return f"{number:,.{places}f}"


@register.filter
def money(value: Any) -> str:
    number = _decimal(value)
    return "—" if number is None else f"{number:,.2f}"


@register.filter
def signed_money(value: Any) -> str:
    """+1,234.50 / -12.00: P&L figures carry their sign."""
    number = _decimal(value)
    if number is None:
        return "—"
    return "0.00" if number.quantize(Decimal("0.01")) == 0 else f"{number:+,.2f}"


@register.filter
def pct(value: Any) -> str:
    number = _decimal(value)
    return "—" if number is None else f"{number:.2f}%"


@register.filter
def qty(value: Any) -> str:
    """A quantity with thousands separators and no trailing zeros (1234.50000000 -> 1,234.5)."""
    number = _decimal(value)
    if number is None:
        return "—"
    text = f"{number:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def ms_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds (exchange time) to an aware UTC datetime for the |date filter."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


@register.filter
def signed_pct(value: Any) -> str:
    """+1.25% / -0.40%: a change, as the live pages render it."""
    number = _decimal(value)
    return "—" if number is None else f"{number:+.2f}%"
