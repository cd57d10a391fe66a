"""`make run`: one process serving everything in embedded mode.

Daphne serves HTTP and WebSockets; an in-process beat runs the Celery schedule; the market
feeds (or the simulator, when the exchanges are unreachable) run in a background thread.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.bots.tasks import bots_closes_enqueue
from apps.core.embedded_beat import EmbeddedBeat
from apps.market.feeds.embedded import start_embedded_market
from apps.portfolio import matcher
from apps.portfolio.services.pushes import push_loop_use

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Serve the product (web, websockets, beat, feeds) in one process."
    requires_system_checks = "__all__"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--market", choices=["auto", "live", "sim", "off"], default=settings.MARKET_SOURCE)
        parser.add_argument("--no-beat", action="store_true", help="do not run the in-process beat")

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported when serving starts, not when the command is loaded: daphne.server installs
        # the Twisted reactor, and config.asgi builds the application (and runs the safety
        # start-up check).
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server, twisted_loop

        from config.asgi import application

        # Pushes from the feed thread, bots and beat must run on the server's loop: the
        # in-memory channel layer's queues belong to it.
        push_loop_use(twisted_loop)
        if settings.PAPER_MATCHER_ENABLED:  # resting orders are matched where market events flow
            matcher.enable()
        market = self._start_market(options["market"], push_loop=twisted_loop)
        beat = None
        if settings.CELERY_EMBEDDED and not options["no_beat"]:
            beat = EmbeddedBeat(schedule=settings.CELERY_BEAT_SCHEDULE)
            beat.start()
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{options['host']}:{options['port']}/  (Ctrl+C stops)"))
        try:
            Server(
                application=application,
                endpoints=build_endpoint_description_strings(host=options["host"], port=options["port"]),
                signal_handlers=True,
                action_logger=None,
                http_timeout=None,
                websocket_timeout=86400,
                ping_interval=20,
                ping_timeout=30,
            ).run()
        finally:
            if beat:
                beat.stop()
            if market is not None and hasattr(market, "stop"):
                market.stop()

    def _start_market(self, source: str, *, push_loop: Any) -> Any:
        if source == "off":
            return None
        handle = start_embedded_market(source, push_loop=push_loop, closes_sink=bots_closes_enqueue)
        mode = getattr(handle, "source", source)
        self.stdout.write(f"Market data: {mode}")
        return handle
