"""Display formatting for the pages: thin filters over apps/core/formatting.py (the rules
static/js/format.js repeats for live pushes).

``{{ p|price:tick }}``, ``{{ q|qty:step }}``, ``{{ amount|money:"USDT" }}``, ``{{ r|pct }}``;
without the argument a price falls back to precision by magnitude, a quantity to 8 decimals
trimmed, money to 2 decimals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template

from apps.core import formatting

register = template.Library()


@register.filter
def price(value: Any, tick: Any = None) -> str:
    return formatting.fmt_price(value, tick)


@register.filter
def money(value: Any, currency: Any = "USDT") -> str:
    return formatting.fmt_money(value, currency or "USDT")


@register.filter
def signed_money(value: Any, currency: Any = "USDT") -> str:
    """+1,234.50 / -12.00: P&L figures carry their sign."""
    return formatting.fmt_signed_money(value, currency or "USDT")


@register.filter
def pct(value: Any) -> str:
    return formatting.fmt_pct(value)


@register.filter
def ratio_pct(value: Any) -> str:
    """A fraction as a percentage: -0.0007 -> -0.07% (widthratio rounded it to "0%")."""
    number = formatting.to_decimal_or_none(value)
    return formatting.fmt_pct(None if number is None else number * 100)


@register.filter
def signed_pct(value: Any) -> str:
    """+1.25% / -0.40%: a change, as the live pages render it."""
    return formatting.fmt_signed_pct(value)


@register.filter
def qty(value: Any, step: Any = None) -> str:
    """To the instrument's step when given; else up to 8 decimals, no trailing zeros."""
    return formatting.fmt_qty(value, step)


@register.filter
def plain(value: Any) -> str:
    """A tick, step or rate in plain digits (0.00001000 -> 0.00001)."""
    return formatting.plain(value)


@register.filter
def ms_datetime(value: Any) -> datetime | None:
    """Epoch milliseconds (exchange time) to an aware UTC datetime for the |date filter."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None
