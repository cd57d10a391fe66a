"""REST API throughput under concurrent load: requests/s and p50/p99 latency of the ticker
and candles endpoints, against /health/live on the same server as the in-run baseline.

The server is daphne (config.asgi) in a separate process: embedded settings with a temp
SQLite database, plus Redis for the cache when reachable (the ticker lives in the cache, and
the seeding process must share it with the server). The load generator is another process
(asyncio + aiohttp, loopback only, bounded by time and request count), authenticated by JWT.

Usage: python bench/api.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DAPHNE = str(ROOT / ".venv" / "bin" / "daphne")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
SYMBOL = "BTCUSDT"
ENDPOINTS = {
    "baseline": "/health/live",
    "ticker": f"/api/v1/markets/binance/{SYMBOL}/ticker/",
    "candles": f"/api/v1/markets/binance/{SYMBOL}/candles/?timeframe=1m&limit=200",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_reachable(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _server_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        PROCESS_ROLE="web",
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # The load is one user at thousands of requests/s: throttling would measure itself.
        API_THROTTLE_USER_PER_MINUTE="1000000000",
        API_THROTTLE_ANON_PER_MINUTE="1000000000",
        CACHE_KEY_PREFIX=f"ptp-bench-api-{os.getpid()}",
        NO_PROXY="127.0.0.1,localhost",
        # The safety checks refuse the built-in development key once services are configured.
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
    )
    env.pop("REDIS_URL", None)
    if _redis_reachable(REDIS_URL):
        env["REDIS_URL"] = REDIS_URL
    return env


# ---- seeding (runs inside a Django process with the server's settings) -------------------


def seed() -> None:
    import django

    django.setup()
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.market.cache import cache_key, cache_write_many
    from apps.market.events import TickerEvent
    from apps.market.models import Candle, Instrument

    user, _ = get_user_model().objects.get_or_create(username="bench-api")
    Instrument.objects.get_or_create(
        exchange="binance",
        symbol=SYMBOL,
        defaults={
            "exchange_symbol": SYMBOL,
            "base_asset": "BTC",
            "quote_asset": "USDT",
            "tick_size": Decimal("0.01"),
            "step_size": Decimal("0.00001"),
            "min_qty": Decimal("0.00001"),
            "max_qty": Decimal("9000"),
            "min_notional": Decimal("5"),
        },
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    Candle.objects.bulk_create(
        [
            Candle(
                exchange="binance",
                symbol=SYMBOL,
                timeframe="1m",
                open_time=start + timedelta(minutes=i),
                open=Decimal(50000 + i),
                high=Decimal(50010 + i),
                low=Decimal(49990 + i),
                close=Decimal(50005 + i),
                volume=Decimal("1.5"),
                quote_volume=Decimal("75000"),
                trades=10,
            )
            for i in range(1000)
        ],
        ignore_conflicts=True,
    )
    ticker = TickerEvent(
        exchange="binance",
        symbol=SYMBOL,
        last=Decimal("51000.5"),
        open=Decimal("50000"),
        high=Decimal("51500"),
        low=Decimal("49500"),
        volume=Decimal("1234.5"),
        quote_volume=Decimal("62000000"),
        change_pct=Decimal("2.001"),
        ts_ms=int(time.time() * 1000),
    )
    cache_write_many({cache_key("binance", SYMBOL, "ticker"): ticker})
    print(json.dumps({"token": str(AccessToken.for_user(user))}))


# ---- load generator (separate process) ---------------------------------------------------


async def _load_one(base: str, path: str, token: str, *, concurrency: int, seconds: float, cap: int) -> dict:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline and len(latencies) < cap:
            started = time.perf_counter()
            async with session.get(base + path, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        for _ in range(concurrency):  # warm-up: connections and first-hit caches
            async with session.get(base + path, headers=headers) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "path": path,
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        "statuses": statuses,
    }


def load(base: str, token: str, *, concurrency: int, seconds: float, cap: int) -> None:
    results = {}
    for name, path in ENDPOINTS.items():
        results[name] = asyncio.run(_load_one(base, path, token, concurrency=concurrency, seconds=seconds, cap=cap))
    print(json.dumps(results))


# ---- orchestration -----------------------------------------------------------------------


def _wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server not ready at {url} after {timeout}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (a few seconds per endpoint)")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=2, metavar=("BASE", "TOKEN"), help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    concurrency = args.concurrency or (8 if args.quick else 32)
    seconds, cap = (2.0, 5_000) if args.quick else (10.0, 100_000)
    if args.seed:
        seed()
        return 0
    if args.load:
        load(args.load[0], args.load[1], concurrency=concurrency, seconds=seconds, cap=cap)
        return 0

    with tempfile.TemporaryDirectory(prefix="ptp-bench-api-") as tmpdir:
        tmp = Path(tmpdir)
        env = _server_env(tmp)
        subprocess.run(
            [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        seeded = subprocess.run([PY, __file__, "--seed"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
        port = _free_port()
        log = (tmp / "daphne.log").open("w")
        server = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base + ENDPOINTS["baseline"], timeout=60)
            loaded = subprocess.run(
                [PY, __file__, "--load", base, token, "--concurrency", str(concurrency)]
                + (["--quick"] if args.quick else []),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
                check=True,
            )
            results = json.loads(loaded.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    baseline = results["baseline"]["rps"] or 1.0
    summary = {
        "bench": "api",
        "quick": args.quick,
        "server": "daphne (1 process), sqlite" + (", redis cache" if "REDIS_URL" in env else ", locmem cache"),
        "concurrency": concurrency,
        **results,
        "ticker_vs_baseline": round(results["ticker"]["rps"] / baseline, 3),
        "candles_vs_baseline": round(results["candles"]["rps"] / baseline, 3),
    }
    for name, result in results.items():
        print(
            f"{name:9s} {result['rps']:9.1f} req/s  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  {result['statuses']}"
        )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
