"""Double-entry posting. Every movement is a Journal whose entries sum to zero per asset;
the free/locked accounts are mirrored into Balance rows in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from apps.portfolio.fills import q18
from apps.portfolio.models import Balance, Journal, LedgerEntry, Order, Portfolio

ZERO = Decimal("0")
FREE, LOCKED = LedgerEntry.Account.FREE, LedgerEntry.Account.LOCKED
CAPITAL_ACCOUNT = LedgerEntry.Account.CAPITAL


class LedgerImbalanceError(RuntimeError):
    """A bug, never user input: a journal that does not balance must not be written."""


@dataclass(slots=True)
class PendingJournal:
    """A journal not written yet: plain data (the order hot path writes it as JSON, the ORM
    path builds its models in ``Posting.flush``)."""

    kind: str
    order: Order | None
    memo: str
    entries: list[tuple[str, str, Decimal]]  # (asset, account, signed amount)


@dataclass(slots=True)
class Posting:
    """Journals collected during one service call, written with two bulk inserts."""

    portfolio: Portfolio
    balances: dict[str, Balance]
    journals: list[PendingJournal] = field(default_factory=list)

    def post(
        self, *, kind: str, moves: Sequence[tuple[str, str, Decimal]], order: Order | None = None, memo: str = ""
    ) -> None:
        """``moves`` are (asset, account, signed amount). Applies free/locked to balances."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        entries: list[tuple[str, str, Decimal]] = []
        for asset, account, amount in moves:
            amount = q18(amount)
            if amount == 0:
                continue
            totals[asset] += amount
            entries.append((asset, account, amount))
            if account in (FREE, LOCKED):
                self._apply(asset, account, amount)
        if any(total != 0 for total in totals.values()):
            raise LedgerImbalanceError(f"journal {kind} does not balance: {dict(totals)}")
        if entries:
            self.journals.append(PendingJournal(kind=kind, order=order, memo=memo[:200], entries=entries))

    def _apply(self, asset: str, account: str, amount: Decimal) -> None:
        balance = self.balances.get(asset)
        if balance is None:
            balance = self.balances[asset] = Balance(portfolio=self.portfolio, asset=asset)
        if account == FREE:
            balance.free += amount
        else:
            balance.locked += amount
        balance._ptp_dirty = True  # type: ignore[attr-defined]
        if balance.free < 0 or balance.locked < 0:
            raise LedgerImbalanceError(
                f"{asset} {account} would go negative: free={balance.free} locked={balance.locked}"
            )

    def dirty_balances(self) -> list[Balance]:
        return [b for b in self.balances.values() if getattr(b, "_ptp_dirty", False)]

    def mark_clean(self) -> None:
        for balance in self.balances.values():
            balance._ptp_dirty = False  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Write journals, entries and changed balances (a few queries whatever the count)."""
        if self.journals:
            if any(pending.order is not None and pending.order.pk is None for pending in self.journals):
                raise LedgerImbalanceError("journal order must be saved first")
            created = Journal.objects.bulk_create(
                [
                    Journal(portfolio=self.portfolio, kind=pending.kind, order=pending.order, memo=pending.memo)
                    for pending in self.journals
                ]
            )
            LedgerEntry.objects.bulk_create(
                [
                    LedgerEntry(journal=journal, portfolio=self.portfolio, asset=asset, account=account, amount=amount)
                    for journal, pending in zip(created, self.journals, strict=True)
                    for asset, account, amount in pending.entries
                ]
            )
            self.journals = []
        new = [b for b in self.balances.values() if b.pk is None and getattr(b, "_ptp_dirty", False)]
        old = [b for b in self.balances.values() if b.pk is not None and getattr(b, "_ptp_dirty", False)]
        if new:
            Balance.objects.bulk_create(new)
        if len(old) == 1:
            old[0].save(update_fields=["free", "locked"])
        elif old:
            Balance.objects.bulk_update(old, ["free", "locked"])
        for balance in self.balances.values():
            balance._ptp_dirty = False  # type: ignore[attr-defined]


def balances_lock(*, portfolio: Portfolio, assets: set[str] | None = None) -> dict[str, Balance]:
    """select_for_update the balance rows (call after locking the portfolio row)."""
    rows = Balance.objects.select_for_update().filter(portfolio=portfolio)
    if assets is not None:
        rows = rows.filter(asset__in=assets)
    return {balance.asset: balance for balance in rows}
