"""Soak: the whole product under simulated market and bot activity, memory sampled.

    python bench/soak.py [--minutes N] [--quick]        (make soak: 10 minutes)
    python bench/soak.py --embedded --minutes 60       (make soak-long)

Processes: the exchange simulator (10x clock, so 1m candles close every 6 s and bots act
often) and the product (``serve --market live``: web, WebSockets, feeds, in-process Celery
and beat), SQLite in a temp dir. Activity from this process: DCA and MA-crossover bots on
several symbols, WebSocket clients on every market, and an API poller (candles, orders,
portfolio, health) once a second.

Resident memory (VmRSS) of each process is sampled every few seconds; the slope is a
least-squares fit over the samples after the first 20 % (warm-up: imports, caches, the
backfill) in MB/min. In-run baseline: the same slope for the idle simulator process. A
slope under 1 MB/min over the run counts as flat. Last line: one JSON object.

``--embedded`` is ``make run``'s mode instead: ``serve --market sim`` (the simulator inside the
web process, wall clock), the same bots and clients, and every stream sampled: each part of
each market's pushes (ticker, book, candles, trades) is a stream; a period over 10 s without
data on any of them is reported (``silent_periods``), and every 1m close pushed is checked for
continuity (``missed_closes``: minutes between the first and last close never pushed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.stack import Stack, free_port, http_json, rss_mb

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
FLAT_MB_PER_MIN = 1.0
SILENT_S = 10.0
STREAM_PARTS = ("ticker", "book", "candles", "trades")


class StreamWatch:
    """Per stream (exchange, symbol, part): when data last came, periods without it over
    SILENT_S, and the 1m closes pushed (for missed-close counting)."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.silent: list[dict[str, object]] = []
        self.closes: dict[str, set[int]] = {}

    def frame(self, frame: dict) -> None:
        """A client frame: {"type", "subscription", "data": the market push's fields}."""
        data = frame.get("data")
        if frame.get("type") != "market.update" or not isinstance(data, dict):
            return
        now = time.monotonic()
        market = f"{data.get('exchange')}:{data.get('symbol')}"
        for part in STREAM_PARTS:
            if data.get(part):
                self._seen(f"{market}:{part}", now)
        for closed in data.get("closed") or []:
            if closed.get("timeframe") == "1m":
                self.closes.setdefault(market, set()).add(int(closed["time"]))

    def _seen(self, key: str, now: float) -> None:
        last = self.last.get(key)
        if last is not None and now - last > SILENT_S:
            self.silent.append({"stream": key, "seconds": round(now - last, 1)})
        self.last[key] = now

    def finish(self) -> None:
        """Streams silent at the end count too (a frozen feed sends nothing more)."""
        now = time.monotonic()
        for key, last in self.last.items():
            if now - last > SILENT_S:
                self.silent.append({"stream": key, "seconds": round(now - last, 1), "at_end": True})

    def missed_closes(self) -> int:
        missed = 0
        for times in self.closes.values():
            if times:
                missed += (max(times) - min(times)) // 60 + 1 - len(times)
        return missed


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) after the warm-up fifth, in MB per minute."""
    tail = samples[len(samples) // 5 :]
    if len(tail) < 3:
        return None
    n = len(tail)
    mean_t = sum(t for t, _ in tail) / n
    mean_m = sum(m for _, m in tail) / n
    var = sum((t - mean_t) ** 2 for t, _ in tail)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (m - mean_m) for t, m in tail)
    return round(cov / var * 60, 3)


class Sampler(threading.Thread):
    def __init__(self, pids: dict[str, int], every: float) -> None:
        super().__init__(daemon=True)
        self.pids, self.every = pids, every
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic() - self.t0
            for name, pid in self.pids.items():
                value = rss_mb(pid)
                if value is not None:
                    self.samples[name].append((now, value))
            self.stop.wait(self.every)


async def ws_clients(
    port: int, token: str, stop: asyncio.Event, counts: dict[str, int], watch: StreamWatch | None = None
) -> None:
    async def one(exchange: str, symbol: str) -> None:
        url = f"ws://127.0.0.1:{port}/ws/market/{exchange}/{symbol}/"
        while not stop.is_set():  # reconnect if the server drops us: a soak must keep going
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.ws_connect(url, origin=f"http://127.0.0.1:{port}") as ws,
                ):
                    await ws.send_str(json.dumps({"type": "auth", "token": token}))
                    while not stop.is_set():
                        try:
                            msg = await ws.receive(timeout=1.0)
                        except TimeoutError:
                            continue
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            break
                        counts["frames"] += 1
                        if watch is not None:
                            data = json.loads(msg.data)
                            if isinstance(data, dict):
                                watch.frame(data)
            except aiohttp.ClientError:
                counts["ws_errors"] += 1
                await asyncio.sleep(1)

    await asyncio.gather(*(one(ex, s) for ex in ("binance", "kucoin") for s in SYMBOLS for _ in range(3)))


def api_poller(base: str, token: str, portfolio_id: int, stop: threading.Event, counts: dict[str, int]) -> None:
    urls = [
        f"{base}/api/v1/markets/binance/BTCUSDT/candles/?timeframe=1m",
        f"{base}/api/v1/orders/?portfolio={portfolio_id}",
        f"{base}/api/v1/portfolios/{portfolio_id}/balances/",
        f"{base}/api/v1/bots/",
    ]
    while not stop.is_set():
        for url in urls:
            status, _ = http_json(url, token=token)
            counts["api_5xx" if status >= 500 else "api_4xx" if status >= 400 else "api_ok"] += 1
        # Readiness may legitimately say 503 (e.g. before the first worker heartbeat): counted apart.
        status, _ = http_json(f"{base}/health/ready")
        counts["ready_200" if status == 200 else "ready_other"] += 1
        stop.wait(1.0)


def start_bots(base: str, token: str, portfolio_id: int) -> int:
    started = 0
    for symbol in SYMBOLS:
        for name, strategy, params in (
            ("dca", "dca", {"interval_candles": 2}),
            ("ma", "ma_crossover", {"fast": 3, "slow": 8, "ma_type": "ema"}),
        ):
            status, bot = http_json(
                f"{base}/api/v1/bots/",
                method="POST",
                token=token,
                body={"name": f"soak {name} {symbol}", "portfolio": portfolio_id, "symbol": symbol, "strategy": strategy,
                      "params": params, "risk": {"order_size": "20", "take_profit_pct": "0.5"}},
            )  # fmt: skip
            if status != 201:
                raise RuntimeError(f"bot create failed: {status} {bot}")
            status, _ = http_json(f"{base}/api/v1/bots/{bot['id']}/start/", method="POST", token=token)
            started += status == 200
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--quick", action="store_true", help="1 minute")
    parser.add_argument("--sample-every", type=float, default=None, help="seconds between RSS samples")
    parser.add_argument("--embedded", action="store_true", help="make run's mode: serve --market sim")
    args = parser.parse_args()
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    every = args.sample_every or max(1.0, min(10.0, minutes * 60 / 60))

    tmp = Path(tempfile.mkdtemp(prefix="ptp-soak-"))
    stack = Stack(
        tmp=tmp,
        env_extra={
            "MARKET_SOURCE": "sim" if args.embedded else "live",
            "MARKET_BACKFILL_CANDLES": "60",
            "MARKET_SYMBOLS": ",".join(SYMBOLS),
            "MARKET_GAP_GRACE_MS": "4000",
            "WS_MAX_CONNECTIONS_PER_USER": "1000",
            "API_THROTTLE_USER_PER_MINUTE": "100000",
            "LOG_LEVEL": "warning",
            # The benchmark logs in once; its token must outlive the run (the default 15 min
            # expired mid-hour: every later request answered 401, counted as fine).
            "JWT_ACCESS_MINUTES": str(int(minutes) + 30),
        },
    )
    watch = StreamWatch() if args.embedded else None
    counts = {"frames": 0, "ws_errors": 0, "api_ok": 0, "api_4xx": 0, "api_5xx": 0, "ready_200": 0, "ready_other": 0}
    try:
        stack.migrate()
        who = stack.user_token("soak", portfolio=True)
        sim = None if args.embedded else stack.start_simulator(trade_rate=50, symbols=SYMBOLS, clock_speed=10)
        port = free_port()
        web = stack.spawn_manage("web", "serve", "--market", "sim" if args.embedded else "live", "--port", str(port))
        stack.wait_http(web, f"http://127.0.0.1:{port}/health/live")
        base = f"http://127.0.0.1:{port}"
        bots = start_bots(base, who["token"], who["portfolio_id"])
        pids = {"web": web.pid, "bench": os.getpid()} | ({"simulator": sim.pid} if sim is not None else {})
        sampler = Sampler(pids, every)
        sampler.start()
        stop_poll = threading.Event()
        poller = threading.Thread(
            target=api_poller, args=(base, who["token"], who["portfolio_id"], stop_poll, counts), daemon=True
        )
        poller.start()

        async def drive() -> None:
            stop = asyncio.Event()
            clients = asyncio.create_task(ws_clients(port, who["token"], stop, counts, watch))
            await asyncio.sleep(minutes * 60)
            if watch is not None:
                watch.finish()
            stop.set()
            await asyncio.wait_for(clients, 15)

        asyncio.run(drive())
        stop_poll.set()
        sampler.stop.set()
        sampler.join(5)
        poller.join(15)
        alive = {p.name: p.alive() for p in stack.procs}
        status, orders = http_json(
            f"{base}/api/v1/orders/?portfolio={who['portfolio_id']}&status=filled", token=who["token"]
        )
        filled = orders.get("count", len(orders.get("results", []))) if isinstance(orders, dict) else None
        if status != 200:
            filled = f"orders query failed: {status} {orders}"
        bots_status, bot_rows = http_json(f"{base}/api/v1/bots/", token=who["token"])
        rows = bot_rows.get("results", []) if isinstance(bot_rows, dict) else bot_rows
        if bots_status != 200 or not isinstance(rows, list):
            rows = [{"name": "bots query failed", "status": bots_status, "status_reason": str(bot_rows)[:200]}]
        # Why a bot traded nothing is the first question when orders_filled is 0.
        bots_at_end = sorted(f"{b.get('name')}: {b.get('status')} {b.get('status_reason') or ''}".strip() for b in rows)
    finally:
        stack.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    processes = {
        name: {
            "start_mb": round(samples[0][1], 1) if samples else None,
            "end_mb": round(samples[-1][1], 1) if samples else None,
            "max_mb": round(max(m for _, m in samples), 1) if samples else None,
            "slope_mb_per_min": slope_mb_per_min(samples),
            "samples": len(samples),
        }
        for name, samples in sampler.samples.items()
    }
    product_slopes = [processes[n]["slope_mb_per_min"] for n in ("web", "simulator") if n in processes]
    summary = {
        "bench": "soak",
        "mode": ("embedded-" if args.embedded else "") + ("quick" if args.quick else "full"),
        "minutes": minutes,
        "processes": processes,
        "baseline_simulator_slope_mb_per_min": processes.get("simulator", {}).get("slope_mb_per_min"),
        "bots_running": bots,
        "orders_filled": filled,
        "bots_at_end": bots_at_end,
        "ws_frames": counts["frames"],
        "ws_errors": counts["ws_errors"],
        "api_requests": counts["api_ok"] + counts["api_4xx"] + counts["api_5xx"],
        "api_4xx": counts["api_4xx"],
        "api_5xx": counts["api_5xx"],
        "ready_200": counts["ready_200"],
        "ready_other": counts["ready_other"],
        "all_alive": all(alive.values()),
        "flat_threshold_mb_per_min": FLAT_MB_PER_MIN,
    }
    if watch is not None:
        summary |= {
            "embedded": True,
            "streams": len(watch.last),
            "silent_periods": watch.silent,
            "missed_closes": watch.missed_closes(),
            "closes_seen": sum(len(t) for t in watch.closes.values()),
        }
    summary["ok"] = bool(
        all(alive.values())
        and counts["api_5xx"] == 0
        and counts["api_4xx"] == 0  # an expired token once hid every bot fill of an hour
        and isinstance(filled, int)
        and all(s is not None and s < FLAT_MB_PER_MIN for s in product_slopes)
        and (watch is None or (not watch.silent and summary["missed_closes"] == 0))
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
