"""The production feeds process: stream, aggregate, persist, push; restart dead feeds.

Its composition root: the feeds tell the bot runner of every final closed candle through
the sink wired here (``closes_sink``); the market app itself knows no bots.

python manage.py run_feeds [--market auto|live|sim] [--exchange binance --exchange kucoin]
                           [--symbols BTCUSDT,ETHUSDT] [--backfill N] [--metrics-port P]
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.bots.tasks import bots_closes_enqueue
from apps.market.feeds.embedded import EXCHANGES, market_start
from apps.portfolio import matcher


class Command(BaseCommand):
    help = "Run the live market-data feeds (Binance, KuCoin) until SIGTERM/SIGINT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--market", choices=("auto", "live", "sim"), default=None)
        parser.add_argument("--exchange", action="append", choices=EXCHANGES, dest="exchanges")
        parser.add_argument("--symbols", default="", help="comma-separated neutral symbols (default: admin/settings)")
        parser.add_argument("--backfill", type=int, default=None, help="candles per timeframe to backfill on start")
        parser.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["metrics_port"]:
            from prometheus_client import start_http_server

            start_http_server(opts["metrics_port"])
        if settings.PAPER_MATCHER_ENABLED:  # resting orders are matched where market events flow
            matcher.enable()
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        overrides: dict[str, Any] = {}
        if opts["backfill"] is not None:
            overrides["backfill_candles"] = opts["backfill"]
        bars: dict[str, Any] = {}
        handle = market_start(
            opts["market"],
            exchanges=tuple(opts["exchanges"] or EXCHANGES),
            symbols=[s.strip().upper() for s in opts["symbols"].split(",") if s.strip()] or None,
            progress=None if opts["no_progress"] else self._progress_factory(bars),
            closes_sink=bots_closes_enqueue,
            **overrides,
        )
        self.stdout.write(f"feeds running ({handle.source}); urls {handle.urls}; Ctrl-C to stop", ending="\n")
        self.stdout.flush()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            for bar in bars.values():
                bar.close()
            handle.stop()
            self.stdout.write("feeds stopped")

    def _progress_factory(self, bars: dict[str, Any]) -> Any:
        from tqdm import tqdm

        def factory(exchange: str) -> Any:
            def progress(done: int, total: int) -> None:
                bar = bars.get(exchange)
                if bar is None:
                    bar = bars[exchange] = tqdm(total=total, desc=f"backfill {exchange}", unit="series")
                bar.n = done
                bar.refresh()

            return progress

        return factory
