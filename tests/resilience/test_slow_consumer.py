"""A WebSocket client that stops reading must not slow the others down: the real server
(``serve`` on the simulator), one client whose socket is never read, a few normal ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from websockets.sync.client import connect

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from support.stack import Stack, free_port

pytestmark = [pytest.mark.slow]
MARKETS = [("binance", s) for s in ("BTCUSDT", "ETHUSDT")] + [("kucoin", s) for s in ("BTCUSDT", "ETHUSDT")]


@pytest.fixture
def product(tmp_path: Path):
    stack = Stack(tmp=tmp_path, env_extra={"MARKET_SOURCE": "live", "MARKET_BACKFILL_CANDLES": "20",
                                           "MARKET_SYMBOLS": "BTCUSDT,ETHUSDT", "LOG_LEVEL": "warning"})  # fmt: skip
    try:
        stack.migrate()
        token = stack.user_token("slow")["token"]
        stack.start_simulator(trade_rate=100, symbols=["BTCUSDT", "ETHUSDT"])
        port = free_port()
        web = stack.spawn_manage("web", "serve", "--market", "live", "--port", str(port), "--no-beat")
        stack.wait_http(web, f"http://127.0.0.1:{port}/health/live")
        yield stack, web, port, token
    finally:
        stack.stop_all()


def _stalled_client(port: int, token: str, stack: contextlib.ExitStack):
    """Subscribed to every market, then never reads: a tiny receive buffer and a one-frame
    queue make the server's writes back up within seconds."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    ws = stack.enter_context(
        connect(
            f"ws://127.0.0.1:{port}/ws/v1/stream/",
            sock=sock,
            origin=f"http://127.0.0.1:{port}",
            max_queue=1,
            close_timeout=0.2,
        )
    )
    ws.send(json.dumps({"type": "auth", "token": token}))
    for i, (exchange, symbol) in enumerate(MARKETS):
        ws.send(json.dumps({"type": "subscribe", "topic": "market", "exchange": exchange, "symbol": symbol, "id": i}))
    return ws


async def _fast_clients(port: int, token: str, seconds: float) -> list[int]:
    async def one(market: tuple[str, str]) -> int:
        frames = 0
        url = f"ws://127.0.0.1:{port}/ws/market/{market[0]}/{market[1]}/"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=f"http://127.0.0.1:{port}") as ws:
            await ws.send_str(json.dumps({"type": "auth", "token": token}))
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                try:
                    msg = await ws.receive(timeout=left)
                except TimeoutError:
                    break
                if msg.type == aiohttp.WSMsgType.TEXT and '"market.update"' in msg.data[:80]:
                    frames += 1
        return frames

    return list(await asyncio.gather(*(one(m) for m in MARKETS)))


def test_a_client_that_stops_reading_does_not_starve_the_others(product):
    stack, web, port, token = product
    assert sum(asyncio.run(_fast_clients(port, token, 4.0))) > 0  # pushes are flowing
    alone = asyncio.run(_fast_clients(port, token, 8.0))
    with contextlib.ExitStack() as sockets:
        for _ in range(3):
            _stalled_client(port, token, sockets)
        crowded = asyncio.run(_fast_clients(port, token, 8.0))
        assert web.alive(), web.tail()
    # Every normal client still gets its pushes (MARKET_PUSH_HZ, coalesced): at least half
    # the frames it got without the stalled clients. Generous, so load on the box can't flake it.
    assert all(c >= max(1, a // 2) for a, c in zip(alone, crowded, strict=True)), (alone, crowded)
    assert web.alive(), web.tail()
