"""REST-backfill stored candles (gaps since the newest stored one, at most --count back)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.market.feeds.embedded import EXCHANGES, configured_urls
from apps.market.feeds.oneshot import backfill_run
from apps.market.selectors import feed_symbols


class Command(BaseCommand):
    help = "Backfill candles of every timeframe from the exchanges' REST klines."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--exchange", action="append", choices=EXCHANGES, dest="exchanges")
        parser.add_argument("--symbols", default="")
        parser.add_argument("--count", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        from tqdm import tqdm

        count = opts["count"] if opts["count"] is not None else settings.MARKET_BACKFILL_CANDLES
        for exchange in opts["exchanges"] or EXCHANGES:
            symbols = [s.strip().upper() for s in opts["symbols"].split(",") if s.strip()]
            symbols = symbols or feed_symbols(exchange=exchange)
            with tqdm(desc=f"backfill {exchange}", unit="series") as bar:

                def progress(done: int, total: int, bar: Any = bar) -> None:
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                written = backfill_run(
                    exchange=exchange, symbols=symbols, urls=configured_urls(), count=count, progress=progress
                )
            self.stdout.write(f"{exchange}: {written} candles upserted")
