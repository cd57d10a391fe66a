"""Money is exact on every database: the embedded mode's SQLite kept 15 significant digits
(a float) and its SUM added floats, so balances drifted and the ledger check failed there."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from apps.core.money_db import MoneySum, money_text
from apps.portfolio.models import Balance, Portfolio

pytestmark = pytest.mark.django_db

PRECISE = D("8474.323046531234567891")


@pytest.fixture
def portfolio(django_user_model):
    owner = django_user_model.objects.create_user(username="exact", password="pw-123456789")
    return Portfolio.objects.create(owner=owner, name="exact")


def test_a_value_with_more_than_15_significant_digits_round_trips(portfolio):
    Balance.objects.create(portfolio=portfolio, asset="USDT", free=PRECISE, locked=D("0.000000000000000001"))
    row = Balance.objects.get(portfolio=portfolio, asset="USDT")
    assert (row.free, row.locked) == (D("8474.323046531234567891"), D("0.000000000000000001"))
    assert Balance.objects.filter(free=PRECISE).count() == 1
    assert Balance.objects.values_list("free", flat=True).get() == PRECISE


def test_sums_are_exact(portfolio):
    for asset, amount in (("A", "0.1"), ("B", "0.2"), ("C", "1234567890.123456789012345678")):
        Balance.objects.create(portfolio=portfolio, asset=asset, free=D(amount))
    total = Balance.objects.filter(portfolio=portfolio).aggregate(total=MoneySum("free"))["total"]
    assert total == D("1234567890.423456789012345678")
    zero = Balance.objects.filter(portfolio=portfolio, asset="none").aggregate(total=MoneySum("free"))["total"]
    assert zero is None


def test_equality_with_zero_and_negative_zero(portfolio):
    Balance.objects.create(portfolio=portfolio, asset="Z", free=D("-0.0"), locked=D("0"))
    assert Balance.objects.filter(free=0, locked=D("0E-18")).count() == 1


def test_the_non_negative_balance_constraint_still_holds(portfolio):
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.create(portfolio=portfolio, asset="NEG", free=D("-0.000000000000000001"))
    Balance.objects.create(portfolio=portfolio, asset="POS", free=D("10"))  # "10" sorts after "0.0": allowed


def test_stored_text_has_one_form():
    assert money_text(D("-0"), decimal_places=18, max_digits=36) == "0.000000000000000000"
    assert money_text(D("1E-5"), decimal_places=4, max_digits=10) == "0.0000"
    assert money_text(D("12.5"), decimal_places=3, max_digits=10) == "12.500"
