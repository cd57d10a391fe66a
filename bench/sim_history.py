"""Stream gaps of the exchange simulator while long history is requested.

Streams btcusdt@trade from the simulator and records the longest gap between frames, first
with no REST load (the in-run baseline), then while Binance 1w x 1000 and KuCoin 1week
history is requested for every symbol on a cold cache. Reports the ratio and the slowest
history answer.

Usage: python bench/sim_history.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import websockets

from apps.market.simulator import ExchangeSimulator

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"]


def _history_load(sim: ExchangeSimulator, rounds: int, slowest: list[float]) -> None:
    for seed_round in range(rounds):
        for s in SYMBOLS:
            for url in (
                f"{sim.binance_rest_url}/api/v3/klines?symbol={s}&interval=1w&limit=1000",
                f"{sim.kucoin_rest_url}/api/v1/market/candles?symbol={s[:-4]}-USDT&type=1week",
            ):
                started = time.monotonic()
                with urllib.request.urlopen(url, timeout=120) as r:
                    r.read()
                slowest.append(time.monotonic() - started)
        del seed_round


async def _max_gap(sim: ExchangeSimulator, seconds: float, load: threading.Thread | None) -> float:
    async with websockets.connect(f"{sim.binance_ws_url}ws/btcusdt@trade") as ws:
        await ws.recv()
        if load is not None:
            load.start()
        last, worst = time.monotonic(), 0.0
        end = last + seconds
        while time.monotonic() < end or (load is not None and load.is_alive()):
            await asyncio.wait_for(ws.recv(), 120)
            now = time.monotonic()
            worst, last = max(worst, now - last), now
    return worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 6.0
    sim = ExchangeSimulator(seed=int(time.time()) % 100_000).start_in_thread()  # cold history cache
    try:
        baseline = asyncio.run(_max_gap(sim, seconds, None))
        slowest: list[float] = []
        load = threading.Thread(target=_history_load, args=(sim, 1, slowest), daemon=True)
        during = asyncio.run(_max_gap(sim, seconds, load))
    finally:
        sim.stop_thread()
    print(
        json.dumps(
            {
                "bench": "sim_history",
                "baseline_max_gap_ms": round(baseline * 1000, 1),
                "history_max_gap_ms": round(during * 1000, 1),
                "gap_ratio": round(during / baseline, 2) if baseline else None,
                "history_requests": len(slowest),
                "slowest_history_ms": round(max(slowest) * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
