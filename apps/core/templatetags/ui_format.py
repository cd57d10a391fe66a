"""Display formatting for the pages: prices with precision by magnitude, as static/js/live.js does."""

from __future__ import annotations

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
