"""Serve the local exchange simulator (Binance + KuCoin protocols) until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the exchange simulator; prints 'binance=HOST:PORT kucoin=HOST:PORT' once bound."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--binance-port", type=int, default=settings.SIMULATOR_BINANCE_PORT)
        parser.add_argument("--kucoin-port", type=int, default=settings.SIMULATOR_KUCOIN_PORT)
        parser.add_argument("--seed", type=int, default=settings.SIMULATOR_SEED)
        parser.add_argument(
            "--replay", default=None, help="trades .json(.gz), candles .csv(.gz) or record_market .jsonl"
        )
        parser.add_argument("--replay-symbol", default=None)
        parser.add_argument("--symbols", nargs="*", default=None, help="e.g. BTCUSDT ETHUSDT (default: the six majors)")
        parser.add_argument("--clock-speed", type=float, default=1.0)
        parser.add_argument("--trade-rate", type=float, default=20.0, help="trades per second per market")
        parser.add_argument("--tripwire-log", default=None)

    def handle(self, *args: object, **opts: object) -> None:
        asyncio.run(self._serve(opts))

    async def _serve(self, opts: dict) -> None:
        from apps.market.simulator import ExchangeSimulator

        symbols = [s for item in opts["symbols"] or [] for s in item.split(",") if s] or None
        sim = ExchangeSimulator(
            seed=opts["seed"],
            symbols=symbols,
            binance_port=opts["binance_port"],
            kucoin_port=opts["kucoin_port"],
            replay=opts["replay"],
            clock_speed=opts["clock_speed"],
            tripwire_log=opts["tripwire_log"],
            trade_rate_hz=opts["trade_rate"],
            replay_symbol=opts["replay_symbol"],
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await sim.start()
        self.stdout.write(f"binance={sim.host}:{sim.binance_port} kucoin={sim.host}:{sim.kucoin_port}")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await sim.stop()
