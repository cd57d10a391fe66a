"""Smoke test: start the whole product against the exchange simulator and walk the workflow.

    python bench/support/smoke.py [--timeout 240]      (``make smoke``)

Processes: ``exchange_sim`` (fast clock so 1m candles close every couple of seconds) and
``manage.py serve --market live`` pointed at it (embedded mode: SQLite in a temp dir,
in-memory channel layer, Celery in-process, beat on). Then, over HTTP and WebSocket only:
data in (candles via the API), chart live (market.update frames on the market socket),
a DCA bot trades on closed candles, a manual market order fills, the portfolio's balances
change, /metrics and /health/ready answer green. Exits 0 when every step passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.stack import Stack, free_port, http_get, http_json, wait_until

SYMBOL = "BTCUSDT"


class SmokeFailure(Exception):
    pass


def step(name: str, ok: bool, detail: Any = "") -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail and not ok else ""), flush=True)
    if not ok:
        raise SmokeFailure(f"{name}: {detail}")


async def first_market_frame(port: int, token: str, timeout: float) -> dict[str, Any]:
    import aiohttp

    url = f"ws://127.0.0.1:{port}/ws/market/binance/{SYMBOL}/"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=f"http://127.0.0.1:{port}") as ws:
        await ws.send_str(json.dumps({"type": "auth", "token": token}))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = await ws.receive(timeout=end - time.monotonic())
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise SmokeFailure(f"market socket closed: {msg.type} {msg.data}")
            frame = json.loads(msg.data)
            if frame.get("type") == "market.update" and frame["data"].get("candles"):
                return frame
    raise SmokeFailure("no market.update frame")


def balances(base: str, token: str, portfolio_id: int) -> dict[str, Decimal]:
    status, body = http_json(f"{base}/api/v1/portfolios/{portfolio_id}/balances/", token=token)
    step("portfolio balances readable", status == 200, body)
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["asset"]: Decimal(str(row["free"])) + Decimal(str(row.get("locked") or 0)) for row in rows}


def walk(stack: Stack, port: int, who: dict[str, Any], timeout: float) -> None:
    base, token, pid = f"http://127.0.0.1:{port}", who["token"], who["portfolio_id"]
    candles_url = f"{base}/api/v1/markets/binance/{SYMBOL}/candles/?timeframe=1m"

    def have_candles() -> bool:
        status, body = http_json(candles_url, token=token)
        rows = body.get("results", body.get("candles")) if isinstance(body, dict) else body
        return status == 200 and bool(rows)

    step("data in: 1m candles served by the API", wait_until(have_candles, timeout / 3, step=1.0), candles_url)
    frame = asyncio.run(first_market_frame(port, token, 30))
    step("chart live: market.update frame with forming candles", "1m" in frame["data"]["candles"], frame)

    before = balances(base, token, pid)
    status, bot = http_json(
        f"{base}/api/v1/bots/",
        method="POST",
        token=token,
        body={
            "name": "smoke dca",
            "portfolio": pid,
            "symbol": SYMBOL,
            "timeframe": "1m",
            "strategy": "dca",
            "params": {"interval_candles": 1, "max_buys": 0},
            "risk": {"order_size": "50"},
        },
    )
    step("bot created", status == 201, bot)
    status, started = http_json(f"{base}/api/v1/bots/{bot['id']}/start/", method="POST", token=token)
    step("bot started", status == 200 and started.get("status") == "running", started)

    def bot_traded() -> bool:
        status, body = http_json(f"{base}/api/v1/orders/?portfolio={pid}", token=token)
        rows = body.get("results", []) if isinstance(body, dict) else body
        return status == 200 and any(r.get("status") == "filled" for r in rows)

    step("a bot order filled", wait_until(bot_traded, timeout / 3, step=1.0), "no filled bot order")

    status, order = http_json(
        f"{base}/api/v1/orders/",
        method="POST",
        token=token,
        body={"portfolio": pid, "symbol": SYMBOL, "side": "buy", "type": "market", "quote_quantity": "25"},
    )
    step("manual market order accepted", status in (200, 201), order)

    after = balances(base, token, pid)
    step("portfolio updated (USDT spent, BTC held)", after.get("USDT", 0) < before.get("USDT", 0), (before, after))
    step("portfolio holds the base asset", after.get("BTC", Decimal(0)) > 0, after)

    status, body = http_get(f"{base}/metrics")
    step("/metrics answers with ptp_ metrics", status == 200 and b"ptp_" in body, status)

    def ready() -> bool:
        status, body = http_json(f"{base}/health/ready")
        ready.last = body  # type: ignore[attr-defined]
        return status == 200 and body.get("status") == "ok"

    step("/health/ready green", wait_until(ready, 60, step=2.0), getattr(ready, "last", None))
    tripwires = stack.tmp / "tripwires.jsonl"
    step("no simulated trading endpoint hit", not tripwires.exists() or not tripwires.read_text().strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start the product against the simulator and walk the workflow.")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ptp-smoke-"))
    stack = Stack(
        tmp=tmp,
        env_extra={
            "MARKET_SOURCE": "live",
            "MARKET_BACKFILL_CANDLES": "60",
            "MARKET_SYMBOLS": "BTCUSDT,ETHUSDT",
            "MARKET_GAP_GRACE_MS": "8000",
            "LOG_LEVEL": "warning",
        },
    )
    started = time.monotonic()
    try:
        stack.migrate()
        who = stack.user_token("smoke", portfolio=True)
        # 30x: a 1m candle closes every 2 s, so the bot sees several closes within the run.
        stack.start_simulator(trade_rate=20, symbols=["BTCUSDT", "ETHUSDT"], clock_speed=30)
        port = free_port()
        web = stack.spawn_manage("web", "serve", "--market", "live", "--port", str(port))
        stack.wait_http(web, f"http://127.0.0.1:{port}/health/live")
        step("product serving", web.alive())
        walk(stack, port, who, args.timeout)
    except SmokeFailure as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        for proc in stack.procs:
            print(f"--- {proc.name} log tail ---\n{proc.tail(40)}", file=sys.stderr)
        return 1
    finally:
        stack.stop_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"smoke": "ok", "seconds": round(time.monotonic() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
