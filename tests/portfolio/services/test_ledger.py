"""Double-entry posting: balanced journals only, balances never negative, one flush writes all."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import transaction

from apps.portfolio.models import Balance, Journal, LedgerEntry
from apps.portfolio.services.ledger import (
    CAPITAL_ACCOUNT,
    FREE,
    LOCKED,
    LedgerImbalanceError,
    Posting,
    balances_lock,
)

pytestmark = pytest.mark.django_db


def _posting(portfolio) -> Posting:
    return Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio))


def test_a_journal_that_does_not_sum_to_zero_is_refused(make_portfolio):
    p = make_portfolio()
    with transaction.atomic():
        posting = _posting(p)
        with pytest.raises(LedgerImbalanceError):
            posting.post(kind=Journal.Kind.DEPOSIT, moves=[("USDT", FREE, D("5")), ("USDT", CAPITAL_ACCOUNT, D("-4"))])


def test_a_balance_may_not_go_negative(make_portfolio):
    p = make_portfolio(starting_balances={"USDT": "10"})
    with transaction.atomic():
        posting = _posting(p)
        with pytest.raises(LedgerImbalanceError):
            posting.post(kind=Journal.Kind.LOCK, moves=[("USDT", FREE, D("-11")), ("USDT", LOCKED, D("11"))])


def test_flush_writes_the_journals_entries_and_changed_balances(make_portfolio):
    p = make_portfolio(starting_balances={"USDT": "10"})
    journals_before = Journal.objects.filter(portfolio=p).count()
    with transaction.atomic():
        posting = _posting(p)
        posting.post(kind=Journal.Kind.LOCK, moves=[("USDT", FREE, D("-4")), ("USDT", LOCKED, D("4"))])
        posting.post(kind=Journal.Kind.DEPOSIT, moves=[("ETH", FREE, D("2")), ("ETH", CAPITAL_ACCOUNT, D("-2"))])
        posting.post(kind=Journal.Kind.DEPOSIT, moves=[("ETH", FREE, D("0")), ("ETH", CAPITAL_ACCOUNT, D("0"))])
        assert {b.asset for b in posting.dirty_balances()} == {"USDT", "ETH"}
        posting.flush()
    assert Journal.objects.filter(portfolio=p).count() == journals_before + 2  # the all-zero journal is not written
    balances = {b.asset: (b.free, b.locked) for b in Balance.objects.filter(portfolio=p)}
    assert balances == {"USDT": (D("6"), D("4")), "ETH": (D("2"), D("0"))}
    assert sum(e.amount for e in LedgerEntry.objects.filter(portfolio=p, asset="ETH")) == 0
