"""Record live (or simulated) market streams to the JSON-lines replay format (see replay.py)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import TextIO

import aiohttp
import websockets


def _line(exchange: str, stream: str, payload: object) -> str:
    return (
        json.dumps(
            {"exchange": exchange, "stream": stream, "ts": int(time.time() * 1000), "payload": payload},
            separators=(",", ":"),
        )
        + "\n"
    )


async def record_binance(*, ws_url: str, streams: list[str], out: TextIO, duration: float, max_messages: int) -> int:
    url = f"{ws_url.rstrip('/')}/stream?streams={'/'.join(streams)}"
    count = 0
    deadline = time.monotonic() + duration
    async with websockets.connect(url, max_size=2**22) as ws:
        while count < max_messages and (left := deadline - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            msg = json.loads(raw)
            out.write(_line("binance", msg.get("stream", ""), msg.get("data", msg)))
            count += 1
    return count


async def record_kucoin(*, rest_url: str, topics: list[str], out: TextIO, duration: float, max_messages: int) -> int:
    async with aiohttp.ClientSession() as session, session.post(f"{rest_url.rstrip('/')}/api/v1/bullet-public") as r:
        bullet = (await r.json())["data"]
    server = bullet["instanceServers"][0]
    url = f"{server['endpoint']}?token={bullet['token']}&connectId={uuid.uuid4().hex}"
    count = 0
    deadline = time.monotonic() + duration
    async with websockets.connect(url, max_size=2**22) as ws:
        for i, topic in enumerate(topics):
            await ws.send(json.dumps({"id": str(i + 1), "type": "subscribe", "topic": topic, "response": True}))
        last_ping = time.monotonic()
        while count < max_messages and (left := deadline - time.monotonic()) > 0:
            if time.monotonic() - last_ping > server["pingInterval"] / 1000 / 2:
                await ws.send(json.dumps({"id": str(int(time.time() * 1000)), "type": "ping"}))
                last_ping = time.monotonic()
            try:
                raw = await asyncio.wait_for(ws.recv(), min(left, 5.0))
            except TimeoutError:
                continue
            msg = json.loads(raw)
            if msg.get("type") == "message":
                out.write(_line("kucoin", msg.get("topic", ""), msg))
                count += 1
    return count


def record_to_file(
    *, exchange: str, url: str, streams: list[str], path: Path, duration: float, max_messages: int
) -> int:
    with path.open("a", encoding="utf-8") as out:
        if exchange == "binance":
            coro = record_binance(ws_url=url, streams=streams, out=out, duration=duration, max_messages=max_messages)
        else:
            coro = record_kucoin(rest_url=url, topics=streams, out=out, duration=duration, max_messages=max_messages)
        return asyncio.run(coro)
