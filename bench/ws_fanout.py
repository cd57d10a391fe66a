"""Tick-to-client latency with many concurrent WebSocket clients on live (simulated) markets.

    python bench/ws_fanout.py [--quick] [--clients N] [--seconds S] [--layer memory|redis|both]

Processes: the exchange simulator (``exchange_sim``, high trade rate) streams to the real
feeds; the web side is either one embedded ``serve`` process (in-memory channel layer) or
``run_feeds`` + ``daphne`` (PROCESS_ROLE=web) sharing channels-redis on the real Redis.
The clients (aiohttp, browser-like: Origin header, JWT auth frame, one market each) run in
this process, separate from the server.

Two latencies per ``market.update`` frame, all on the machine's one wall clock:
- push-to-client: the feed stamps ``pushed_ms`` right before ``group_send``; the client
  subtracts it from its receive time. This is the fan-out cost (channel layer, consumer,
  socket) and is what more clients can make worse. The target (p99 < 100 ms at 500 clients)
  applies to it.
- trade-to-client: the newest trade's exchange timestamp in the frame to receive time. It
  also holds the pipeline's deliberate batching (simulator tick 100 ms, cache flush, at
  most MARKET_PUSH_HZ pushes per symbol), so it is reported, not targeted.
In-run baseline: the same measurement with one client, before the crowd connects.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.stack import Stack, free_port

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"]
MARKETS = [(ex, s) for ex in ("binance", "kucoin") for s in SYMBOLS]
TARGET_P99_MS = 100.0
_PUSHED = re.compile(rb'"pushed_ms":\s*(\d+)')
_TRADES = re.compile(rb'"trades":\s*\[(.*?)\]')
_TS = re.compile(rb'"ts":\s*(\d+)')


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


class Recorder:
    def __init__(self) -> None:
        self.recording = False
        self.push: list[float] = []
        self.trade: list[float] = []
        self.frames = 0
        self.errors: list[str] = []

    def frame(self, raw: bytes, now_ms: float) -> None:
        if not self.recording or b'"market.update"' not in raw[:80]:
            return
        self.frames += 1
        pushed = _PUSHED.search(raw)
        if pushed:
            self.push.append(now_ms - int(pushed.group(1)))
        trades = _TRADES.search(raw)
        if trades:
            stamps = [int(x) for x in _TS.findall(trades.group(1))]
            if stamps:
                self.trade.append(now_ms - max(stamps))

    def summary(self, seconds: float) -> dict[str, object]:
        return {
            "frames": self.frames,
            "frames_per_s": round(self.frames / seconds, 1),
            "push_p50_ms": pct(self.push, 0.50),
            "push_p99_ms": pct(self.push, 0.99),
            "push_max_ms": pct(self.push, 1.0),
            "trade_p50_ms": pct(self.trade, 0.50),
            "trade_p99_ms": pct(self.trade, 0.99),
        }


async def client(
    session: aiohttp.ClientSession,
    port: int,
    market: tuple[str, str],
    token: str,
    rec: Recorder,
    ready: asyncio.Event,
    stop: asyncio.Event,
    gate: asyncio.Semaphore,
) -> None:
    exchange, symbol = market
    url = f"ws://127.0.0.1:{port}/ws/market/{exchange}/{symbol}/"
    try:
        async with gate:
            ws = await session.ws_connect(url, origin=f"http://127.0.0.1:{port}", heartbeat=None, max_msg_size=0)
            await ws.send_str(json.dumps({"type": "auth", "token": token}))
            while True:
                msg = await asyncio.wait_for(ws.receive(), 30)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"closed during handshake: {msg.type} {msg.data}")
                kind = json.loads(msg.data).get("type")
                if kind == "subscribed":
                    break
                if kind == "error":
                    raise RuntimeError(msg.data)
        ready.set()
        async with ws:
            while not stop.is_set():
                msg = await ws.receive()
                if msg.type == aiohttp.WSMsgType.TEXT:
                    rec.frame(msg.data.encode(), time.time() * 1000)
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    if not stop.is_set():
                        rec.errors.append(f"{market} closed: {msg.type} {msg.data}")
                    return
    except Exception as exc:
        rec.errors.append(f"{market}: {exc!r}"[:300])


async def measure(port: int | list[int], token: str, clients: int, seconds: float) -> dict[str, object]:
    """Return {"baseline": ..., "crowd": ...}: one client alone, then ``clients`` at once
    (spread round-robin over the web processes' ports, as nginx would)."""
    ports = port if isinstance(port, list) else [port]
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        results: dict[str, object] = {}
        for phase, count in (("baseline", 1), ("crowd", clients)):
            rec, stop, gate = Recorder(), asyncio.Event(), asyncio.Semaphore(50)
            readies = [asyncio.Event() for _ in range(count)]
            started = time.monotonic()
            tasks = [
                asyncio.create_task(
                    client(
                        session, ports[i % len(ports)], MARKETS[i % len(MARKETS)], token, rec, readies[i], stop, gate
                    )
                )
                for i in range(count)
            ]
            deadline = time.monotonic() + 120
            while sum(r.is_set() for r in readies) + len(rec.errors) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            connect_s = time.monotonic() - started
            connected = sum(r.is_set() for r in readies)
            await asyncio.sleep(1.0)  # let handshakes' burst settle before recording
            rec.recording = True
            window = seconds if phase == "crowd" else max(5.0, seconds / 3)
            await asyncio.sleep(window)
            rec.recording = False
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            results[phase] = {
                "clients": count,
                "connected": connected,
                "connect_s": round(connect_s, 2),
                "errors": len(rec.errors),
                "first_errors": rec.errors[:3],
                **rec.summary(window),
            }
        return results


def run_layer(
    layer: str, *, base_db: Path, clients: int, seconds: float, trade_rate: float, web_procs: int = 1
) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix=f"ptp-fanout-{layer}-"))
    shutil.copy(base_db, tmp / "db.sqlite3")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15") if layer == "redis" else ""
    stack = Stack(
        tmp=tmp,
        redis_url=redis_url,
        env_extra={
            "MARKET_SOURCE": "live",
            "MARKET_BACKFILL_CANDLES": "30",
            "WS_MAX_CONNECTIONS_PER_USER": "100000",
            "HEALTH_CHECK_FEEDS": "false",
            "LOG_LEVEL": "WARNING",
        },
    )
    port = free_port()
    try:
        stack.start_simulator(trade_rate=trade_rate, symbols=SYMBOLS)
        token = stack.user_token()["token"]
        if layer == "memory":
            web = stack.spawn_manage("web", "serve", "--market", "live", "--port", str(port), "--no-beat")
            stack.wait_http(web, f"http://127.0.0.1:{port}/health/live")
        else:
            stack.spawn_manage("feeds", "run_feeds", "--market", "live", "--no-progress", PROCESS_ROLE="feeds")
            web = stack.start_daphne(port)
        # Pushes flow once the feeds have backfilled and streamed: wait for a first frame.
        wait_first_frames(port, token, 90)
        result = asyncio.run(measure(port, token, clients, seconds))
        result["server_rss_mb"] = {p.name: round(p.rss_mb() or 0, 1) for p in stack.procs if p.alive()}
        return result
    finally:
        stack.stop_all()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def wait_first_frames(port: int, token: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = asyncio.run(measure(port, token, 1, 1.0))
        if got["crowd"]["frames"]:  # type: ignore[index]
            return
    raise RuntimeError("no market.update frames reached a client")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 clients, 8 s, in-memory layer only")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--layer", choices=("memory", "redis", "both"), default=None)
    parser.add_argument("--trade-rate", type=float, default=100.0, help="simulated trades/s per market")
    parser.add_argument("--web-procs", type=int, default=1, help="daphne processes in the redis layer")
    args = parser.parse_args()
    clients = args.clients or (100 if args.quick else 500)
    seconds = args.seconds or (8.0 if args.quick else 30.0)
    layer = args.layer or ("memory" if args.quick else "both")
    layers = ["memory", "redis"] if layer == "both" else [layer]

    base = Path(tempfile.mkdtemp(prefix="ptp-fanout-base-"))
    try:
        Stack(tmp=base).migrate()
        figures = {
            name: run_layer(
                name,
                base_db=base / "db.sqlite3",
                clients=clients,
                seconds=seconds,
                trade_rate=args.trade_rate,
                web_procs=args.web_procs,
            )
            for name in layers
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for name, fig in figures.items():
        print(f"{name}: {json.dumps(fig)}", file=sys.stderr)
    worst = max((f["crowd"]["push_p99_ms"] or 1e9) for f in figures.values())  # type: ignore[index]
    complete = all(f["crowd"]["connected"] == clients for f in figures.values())  # type: ignore[index]
    summary = {
        "bench": "ws_fanout",
        "mode": "quick" if args.quick else "full",
        "clients": clients,
        "seconds": seconds,
        "trade_rate_per_market": args.trade_rate,
        "markets": len(MARKETS),
        "redis_web_processes": args.web_procs,
        "target_push_p99_ms": TARGET_P99_MS,
        **{
            f"{name}_{prefix}{key}": fig[phase][key]  # type: ignore[index]
            for name, fig in figures.items()
            for phase, prefix in (("baseline", "baseline_"), ("crowd", ""))
            for key in ("push_p50_ms", "push_p99_ms", "trade_p50_ms", "trade_p99_ms", "frames_per_s", "connected")
        },
        "ok": bool(complete and worst < TARGET_P99_MS),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
