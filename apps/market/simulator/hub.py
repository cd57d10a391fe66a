"""WebSocket connection bookkeeping shared by the Binance and KuCoin servers.

Each connection has an outgoing buffer drained by its own writer task, so the engine never
awaits a slow client: it appends and moves on. A client that falls too far behind is
disconnected, as the real venues do.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from aiohttp import WSCloseCode, web

MAX_BUFFERED = 200_000


class Conn:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.subs: set[str] = set()
        self.since: dict[str, int] = {}  # key -> simulated ms it was subscribed at
        self.buf: list[str] = []
        self.wake = asyncio.Event()
        self.closed = False
        self.combined = False  # Binance: wrap frames as {"stream","data"}
        self.connect_id = ""  # KuCoin: the client's connectId
        self.keepalive: object = None  # the connection's keep-alive rule (limits.py), for tests to read
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def push(self, text: str) -> None:
        if self.closed:
            return
        self.buf.append(text)
        if len(self.buf) > MAX_BUFFERED:
            self.buf.clear()
            self.abort()
            return
        self.wake.set()

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                batch, self.buf = self.buf, []
                for text in batch:
                    if self.ws.closed:
                        return
                    await self.ws.send_str(text)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake (a network failure)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b"") -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message)

    def stop(self) -> None:
        self.closed = True
        self.wake.set()
        self.writer.cancel()


class Hub:
    """Subscriptions of one exchange: key (stream/topic) -> connections."""

    def __init__(self) -> None:
        self.conns: set[Conn] = set()
        self.subs: dict[str, set[Conn]] = {}
        self.fresh: set[str] = set()  # keys subscribed since the last engine step: served at once
        self.stalled_until = 0.0
        self.messages_sent = 0

    def stalled(self) -> bool:
        return time.monotonic() < self.stalled_until

    def subscribe(self, conn: Conn, keys: Iterable[str], now_ms: int = 0) -> None:
        for key in keys:
            if key not in conn.subs:  # a duplicate subscribe keeps the original start
                conn.since[key] = now_ms
            conn.subs.add(key)
            self.fresh.add(key)
            self.subs.setdefault(key, set()).add(conn)

    def unsubscribe(self, conn: Conn, keys: Iterable[str]) -> None:
        for key in keys:
            conn.subs.discard(key)
            conn.since.pop(key, None)
            members = self.subs.get(key)
            if members is not None:
                members.discard(conn)
                if not members:
                    del self.subs[key]

    def remove(self, conn: Conn) -> None:
        self.unsubscribe(conn, list(conn.subs))
        self.conns.discard(conn)
        conn.stop()

    def members(self, key: str, closed_ms: int | None = None) -> Iterable[Conn]:
        """Subscribers of ``key``; with ``closed_ms``, only those subscribed before that instant:
        a candle that closed before a connection subscribed is not streamed to it (REST has it)."""
        conns = self.subs.get(key, ())
        if closed_ms is None:
            return conns
        return [c for c in conns if c.since.get(key, 0) < closed_ms]

    def wants(self, key: str) -> bool:
        return key in self.subs

    def broadcast_raw(self, text: str) -> None:
        for conn in list(self.conns):
            conn.push(text)
