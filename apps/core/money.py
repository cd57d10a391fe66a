"""Decimal money and quantity helpers: the one place that says how money is stored.

Prices, quantities, balances, fees and P&L are Decimal end to end. Values from exchanges
are parsed from their strings straight into Decimal (never via float).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.conf import settings

from apps.core.money_db import MoneyField

ZERO = Decimal("0")


def money_field(**kwargs: object) -> MoneyField:
    """A decimal field sized for any price, quantity or balance on Binance or KuCoin, exact on
    every database (apps.core.money_db)."""
    kwargs.setdefault("default", ZERO)
    return MoneyField(
        max_digits=settings.MONEY_MAX_DIGITS,
        decimal_places=settings.MONEY_DECIMAL_PLACES,
        **kwargs,  # type: ignore[arg-type]
    )


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Parse a str/int/Decimal into a finite Decimal. Floats are refused: they lose cents."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | float):
        raise ValueError(f"{field}: money must not be a float or bool, got {value!r}")
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{field}: not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"{field}: not a decimal number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"{field}: must be finite, got {value!r}")
    return result


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of ``step`` (quantities: never more than the user can afford)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def quantize_nearest(value: Decimal, step: Decimal) -> Decimal:
    """Round to the nearest multiple of ``step`` (prices to the tick)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step <= 0 or (value % step) == 0


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one asset. Adding different assets is a bug and raises."""

    amount: Decimal
    asset: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be Decimal, got {type(self.amount).__name__}")

    def _same(self, other: Money) -> None:
        if self.asset != other.asset:
            raise ValueError(f"cannot combine {self.asset} with {other.asset}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.asset)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.asset)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.asset)

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.asset}"
