from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.money import Money, is_multiple, quantize_down, quantize_nearest, to_decimal


def test_to_decimal_parses_strings_exactly():
    assert to_decimal("0.1") + to_decimal("0.2") == Decimal("0.3")


@pytest.mark.parametrize("bad", [0.1, True, "abc", "NaN", "Infinity", None, [1]])
def test_to_decimal_refuses_floats_and_junk(bad):
    with pytest.raises(ValueError):
        to_decimal(bad, field="price")


def test_quantize_helpers():
    assert quantize_down(Decimal("1.23456"), Decimal("0.001")) == Decimal("1.234")
    assert quantize_nearest(Decimal("100.126"), Decimal("0.01")) == Decimal("100.13")
    assert is_multiple(Decimal("0.300"), Decimal("0.1"))
    assert not is_multiple(Decimal("0.35"), Decimal("0.1"))


def test_money_refuses_mixing_assets():
    with pytest.raises(ValueError):
        Money(Decimal("1"), "USDT") + Money(Decimal("1"), "BTC")
    assert str(Money(Decimal("1.50"), "USDT") + Money(Decimal("2"), "USDT")) == "3.5 USDT"
