"""Ledger invariants (read-only). ``ledger_problems()`` returns one line per mismatch."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from apps.core.money_db import MoneySum
from apps.portfolio.models import Balance, LedgerEntry, Order

ZERO = Decimal("0")


def _scope(portfolio_id: int | None, field: str = "portfolio_id") -> Q:
    return Q(**{field: portfolio_id}) if portfolio_id is not None else Q()


def ledger_problems(*, portfolio_id: int | None = None) -> list[str]:
    problems: list[str] = []
    unbalanced = (
        LedgerEntry.objects.filter(_scope(portfolio_id))
        .values("journal_id", "asset")
        .annotate(total=MoneySum("amount"))
        .exclude(total=0)
    )
    problems += [f"journal {row['journal_id']} {row['asset']} does not balance: {row['total']}" for row in unbalanced]

    sums: dict[tuple[int, str, str], Decimal] = defaultdict(lambda: ZERO)
    rows = (
        LedgerEntry.objects.filter(_scope(portfolio_id), account__in=("free", "locked"))
        .values("portfolio_id", "asset", "account")
        .annotate(total=MoneySum("amount"))
    )
    for row in rows:
        sums[(row["portfolio_id"], row["asset"], row["account"])] = row["total"]

    locks: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    open_rows = (
        Order.objects.filter(_scope(portfolio_id), status__in=Order.OPEN_STATUSES)
        .values("portfolio_id", "locked_asset")
        .annotate(total=MoneySum("locked_amount"))
    )
    for lock_row in open_rows:
        locks[(lock_row["portfolio_id"], lock_row["locked_asset"])] = lock_row["total"]

    seen: set[tuple[int, str]] = set()
    for balance in Balance.objects.filter(_scope(portfolio_id)):
        key = (balance.portfolio_id, balance.asset)
        seen.add(key)
        label = f"portfolio {balance.portfolio_id} {balance.asset}"
        if balance.free < 0 or balance.locked < 0:
            problems.append(f"{label}: negative balance free={balance.free} locked={balance.locked}")
        for account, value in (("free", balance.free), ("locked", balance.locked)):
            ledger = sums.pop((*key, account), ZERO)
            if ledger != value:
                problems.append(f"{label}: {account} balance {value} != ledger {ledger}")
        if locks.get(key, ZERO) != balance.locked:
            problems.append(f"{label}: locked {balance.locked} != open orders reserve {locks.get(key, ZERO)}")
    problems += [f"portfolio {p} {a}: ledger {acc} {v} has no balance row" for (p, a, acc), v in sums.items() if v != 0]
    problems += [
        f"portfolio {p} {a}: open orders reserve {v} with no balance row"
        for (p, a), v in locks.items()
        if (p, a) not in seen and v != 0
    ]
    leftover = (
        Order.objects.filter(_scope(portfolio_id)).exclude(status__in=Order.OPEN_STATUSES).exclude(locked_amount=0)
    )
    problems += [f"order {o.pk} is {o.status} but still reserves {o.locked_amount}" for o in leftover]
    return problems
