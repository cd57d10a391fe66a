"""Numbers for a person (pure): prices to the instrument's tick, quantities to its step, quote
money to its currency's usual decimals, percentages to 2 decimals.

The one set of rules: the template filters (apps/core/templatetags/ui_format.py) call these,
and static/js/format.js implements the same rules for live pushes; tests/core/test_formatting.py
holds the table of cases both must agree on. Values are Decimal (or their string form);
rounding is half away from zero, as the JS module does it on the decimal digits.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DASH = "—"
# Usual decimals of a currency; anything not listed (a crypto asset) gets CRYPTO_DECIMALS.
CURRENCY_DECIMALS = {"USDT": 2, "USDC": 2, "BUSD": 2, "FDUSD": 2, "TUSD": 2, "DAI": 2, "USD": 2, "EUR": 2}
CRYPTO_DECIMALS = 8
QTY_MAX_DECIMALS = 8  # a quantity with no known step: up to 8 decimals, trailing zeros dropped


def to_decimal_or_none(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def step_decimals(step: object) -> int | None:
    """Decimals a tick or step allows: 0.01 -> 2, 0.00001000 -> 5, 1 -> 0, 10 -> 0."""
    number = to_decimal_or_none(step)
    if number is None or number <= 0:
        return None
    exponent = number.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def plain(value: object) -> str:
    """A Decimal in plain digits without trailing zeros or exponent (0.00001000 -> 0.00001)."""
    number = to_decimal_or_none(value)
    if number is None:
        return DASH
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fixed(value: object, places: int, *, grouping: bool = True) -> str:
    """``value`` rounded half away from zero to ``places`` decimals, with thousands commas;
    a value that rounds to zero has no sign."""
    number = to_decimal_or_none(value)
    if number is None:
        return DASH
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:,.{places}f}" if grouping else f"{rounded:.{places}f}"


def magnitude_decimals(value: Decimal) -> int:
    """A price whose tick is unknown: 2 decimals from 1,000, 4 from 1, else 6."""
    size = abs(value)
    return 2 if size >= 1000 or size == 0 else 4 if size >= 1 else 6


def fmt_price(value: object, tick: object = None) -> str:
    number = to_decimal_or_none(value)
    if number is None:
        return DASH
    places = step_decimals(tick)
    return fixed(number, magnitude_decimals(number) if places is None else places)


def fmt_qty(value: object, step: object = None) -> str:
    """To the step's decimals when known; otherwise up to 8 decimals, trailing zeros dropped."""
    number = to_decimal_or_none(value)
    if number is None:
        return DASH
    places = step_decimals(step)
    if places is not None:
        return fixed(number, places)
    text = fixed(number, QTY_MAX_DECIMALS)
    return text.rstrip("0").rstrip(".")


def currency_decimals(currency: str | None) -> int:
    if not currency:
        return 2
    return CURRENCY_DECIMALS.get(currency.upper(), CRYPTO_DECIMALS)


def fmt_money(value: object, currency: str | None = "USDT") -> str:
    return fixed(value, currency_decimals(currency))


def fmt_signed_money(value: object, currency: str | None = "USDT") -> str:
    text = fmt_money(value, currency)
    return text if text == DASH or text.startswith("-") or _is_zero(text) else "+" + text


def fmt_pct(value: object) -> str:
    """-0.07 -> "-0.07%" (never "0%" for a small loss); already in percent units."""
    text = fixed(value, 2)
    return text if text == DASH else text + "%"


def fmt_signed_pct(value: object) -> str:
    text = fmt_pct(value)
    return text if text == DASH or text.startswith("-") or _is_zero(text) else "+" + text


def _is_zero(text: str) -> bool:
    return not any(ch in "123456789" for ch in text)
