"""Record market streams to a JSON-lines file that `exchange_sim --replay FILE` can replay."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Record Binance streams (btcusdt@trade ...) or KuCoin topics (/market/match:BTC-USDT ...) to JSONL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--exchange", choices=["binance", "kucoin"], default="binance")
        parser.add_argument("--streams", nargs="+", required=True, help="Binance stream names or KuCoin topics")
        parser.add_argument("--out", required=True)
        parser.add_argument("--duration", type=float, default=60.0, help="seconds")
        parser.add_argument("--max-messages", type=int, default=1_000_000)
        parser.add_argument("--url", default=None, help="Binance WS base URL or KuCoin REST URL (default: settings)")

    def handle(self, *args: object, **opts: object) -> None:
        from apps.market.simulator.recorder import record_to_file

        exchange = str(opts["exchange"])
        url = opts["url"] or (settings.BINANCE_WS_URL if exchange == "binance" else settings.KUCOIN_REST_URL)
        count = record_to_file(
            exchange=exchange,
            url=str(url),
            streams=list(opts["streams"]),
            path=Path(str(opts["out"])),
            duration=float(opts["duration"]),
            max_messages=int(opts["max_messages"]),
        )
        self.stdout.write(f"recorded {count} messages to {opts['out']}")
