"""Sync instruments (tick/step size, min notional) from exchangeInfo and /api/v2/symbols."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.market.feeds.embedded import EXCHANGES, configured_urls
from apps.market.feeds.oneshot import instruments_run


class Command(BaseCommand):
    help = "Sync Instrument rows from the exchanges."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--exchange", action="append", choices=EXCHANGES, dest="exchanges")

    def handle(self, *args: Any, **opts: Any) -> None:
        for exchange in opts["exchanges"] or EXCHANGES:
            count = instruments_run(exchange=exchange, urls=configured_urls())
            self.stdout.write(f"{exchange}: {count} instruments synced")
