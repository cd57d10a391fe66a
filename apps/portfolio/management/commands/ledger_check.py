"""Verify the paper ledger: balanced journals, balances == ledger sums, no negatives,
locked == open orders' reserves. Exits non-zero on any mismatch."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.portfolio.ledger_checks import ledger_problems


class Command(BaseCommand):
    help = "Check the paper-trading ledger invariants; exit status 1 on any mismatch."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--portfolio", type=int, default=None, help="check one portfolio only")

    def handle(self, *args: object, **options: object) -> None:
        problems = ledger_problems(portfolio_id=options.get("portfolio"))  # type: ignore[arg-type]
        for line in problems[:1000]:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"ledger_check: {len(problems)} problem(s)", returncode=1)
        self.stdout.write("ledger_check: OK")
