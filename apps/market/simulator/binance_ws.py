"""Binance spot WebSocket streams: raw (/ws/<s>), combined (/stream?streams=a/b), live control."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from . import fmt
from .candles import rolling_24h
from .control import SIM
from .depth import Diff, DiffBook
from .hub import Conn, Hub
from .intervals import BINANCE_INTERVALS, align, next_open, opens_from, shift
from .limits import BinanceLimits, PongDeadline, SlidingCount
from .market import Market, Trade

if TYPE_CHECKING:
    from .state import SimState

_STREAM = re.compile(
    r"^([a-z0-9]+)@(trade|aggTrade|miniTicker|ticker|bookTicker|kline_(\w+)|depth(5|10|20)(@100ms|@1000ms)?"
    r"|depth(@100ms)?)$"
)
_GLOBAL = {"!miniTicker@arr", "!miniTicker@arr@1000ms", "!ticker@arr"}


class TooManyStreams(Exception):
    """A SUBSCRIBE would take the connection past its stream limit."""


def valid_stream(sim: SimState, name: str) -> bool:
    if name in _GLOBAL:
        return True
    match = _STREAM.match(name)
    if match is None or ("binance", match.group(1).upper()) not in sim.markets:
        return False
    return match.group(3) is None or match.group(3) in BINANCE_INTERVALS


def _url_streams(request: web.Request) -> list[str]:
    if request.path.startswith("/stream"):
        return [s for s in request.query.get("streams", "").split("/") if s]
    tail = request.match_info.get("streams", "")
    return [s for s in tail.split("/") if s]


async def ws_handler(request: web.Request) -> web.StreamResponse:
    sim: SimState = request.app[SIM]  # type: ignore[assignment]
    ip = request.remote or ""
    if sim.binance_gate.admit(ip, time.monotonic()) is not None:
        # [unknown] how Binance refuses attempt 301 in 5 minutes: the handshake answers 429.
        return web.json_response({"code": -1003, "msg": "Too many connection attempts."}, status=429)
    try:
        return await _serve(sim, request)
    finally:
        sim.binance_gate.closed(ip)


async def _serve(sim: SimState, request: web.Request) -> web.WebSocketResponse:
    limits = sim.limits.binance
    # autoping off and no aiohttp heartbeat: pings and pongs count against the incoming limit,
    # and the keep-alive is Binance's (ping every 20 s, a matching pong within a minute).
    ws = web.WebSocketResponse(max_msg_size=1 << 20, autoping=False)
    await ws.prepare(request)
    conn = Conn(ws, request)
    conn.combined = request.path.startswith("/stream")
    hub = sim.binance_hub
    hub.conns.add(conn)
    deadline = conn.keepalive = PongDeadline(limits.pong_timeout_s)
    keepalive = asyncio.get_running_loop().create_task(_keepalive(conn, deadline, limits))
    try:
        streams = {s for s in _url_streams(request) if valid_stream(sim, s)}
        if len(streams) > limits.streams_per_connection:
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too many streams")
            return ws
        hub.subscribe(conn, streams, sim.clock.now_ms())
        await _receive(sim, ws, conn, deadline)
    finally:
        keepalive.cancel()
        hub.remove(conn)
    return ws


async def _receive(sim: SimState, ws: web.WebSocketResponse, conn: Conn, deadline: PongDeadline) -> None:
    incoming = SlidingCount(sim.limits.binance.incoming_per_s, 1.0)
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return
        if incoming.add(time.monotonic()):
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too many requests")
            return
        if msg.type == WSMsgType.PING:
            await ws.pong(msg.data)
        elif msg.type == WSMsgType.PONG:
            deadline.pong(bytes(msg.data))
        elif msg.type == WSMsgType.TEXT:
            try:
                reply = _control(sim, sim.binance_hub, conn, msg.data)
            except TooManyStreams:
                # [unknown] Binance's answer to stream 1025: the stricter one, a disconnect.
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too many streams")
                return
            if reply is not None:
                conn.push(json.dumps(reply))


async def _keepalive(conn: Conn, deadline: PongDeadline, limits: BinanceLimits) -> None:
    """Ping every ping_interval_s; drop the connection (no close frame) once a ping went
    unanswered for pong_timeout_s."""
    step = min(limits.ping_interval_s, limits.pong_timeout_s) / 4
    next_ping = time.monotonic() + limits.ping_interval_s  # the first ping one interval in
    while not conn.closed:
        now = time.monotonic()
        if deadline.late(now):
            conn.abort()
            return
        if now >= next_ping:
            payload = str(int(time.time() * 1000)).encode()
            deadline.sent(payload, now)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.ping(payload)
            next_ping = now + limits.ping_interval_s
        await asyncio.sleep(min(step, max(next_ping - now, 0.01)))


def _control(sim: SimState, hub: Hub, conn: Conn, text: str) -> dict | None:
    try:
        req = json.loads(text)
    except ValueError as exc:
        return {"code": 3, "msg": f"Invalid JSON: {exc}"}
    if not isinstance(req, dict):
        return {"error": {"code": 2, "msg": "Invalid request: request must be an object"}}
    rid, method, params = req.get("id"), req.get("method"), req.get("params") or []
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) and valid_stream(sim, p) for p in params):
            return {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": rid}
        if method == "SUBSCRIBE" and len(conn.subs | set(params)) > sim.limits.binance.streams_per_connection:
            raise TooManyStreams
        if method == "SUBSCRIBE":
            hub.subscribe(conn, params, sim.clock.now_ms())
        else:
            hub.unsubscribe(conn, params)
        return {"result": None, "id": rid}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(conn.subs), "id": rid}
    if method == "SET_PROPERTY" and params and params[0] == "combined":
        conn.combined = bool(params[1])
        return {"result": None, "id": rid}
    if method == "GET_PROPERTY" and params and params[0] == "combined":
        return {"result": conn.combined, "id": rid}
    return {"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": rid}


def send(hub: Hub, stream: str, payload: str, closed_ms: int | None = None) -> None:
    wrapped = None
    for conn in hub.members(stream, closed_ms):
        if conn.combined:
            if wrapped is None:
                wrapped = f'{{"stream":"{stream}","data":{payload}}}'
            conn.push(wrapped)
        else:
            conn.push(payload)
    hub.messages_sent += 1


class BinancePublisher:
    """Turns engine output into stream frames; only builds what someone subscribed to."""

    def __init__(self, sim: SimState) -> None:
        self.sim = sim
        self.hub = sim.binance_hub
        self.kline_open: dict[str, int] = {}
        self.diff_books: dict[str, DiffBook] = {}  # symbol -> book as last diffed
        self.slow_diffs: dict[str, Diff] = {}  # symbol -> changes not yet sent on <s>@depth

    def trades(self, m: Market, trades: list[Trade], now: int) -> None:
        name = m.spec.symbol.lower()
        if self.hub.wants(f"{name}@trade"):
            for t in trades:
                send(self.hub, f"{name}@trade", fmt.binance_trade_event(m, t, now))
        if self.hub.wants(f"{name}@aggTrade"):
            for t in trades:
                send(self.hub, f"{name}@aggTrade", fmt.binance_agg_event(m, t, now))

    def book(self, m: Market, now: int, second: bool) -> None:
        name = m.spec.symbol.lower()
        if self.hub.wants(f"{name}@bookTicker"):
            r = fmt.binance_book_ticker(m)
            send(
                self.hub,
                f"{name}@bookTicker",
                f'{{"u":{m.book_version},"s":"{m.spec.symbol}","b":"{r["bidPrice"]}",'
                f'"B":"{r["bidQty"]}","a":"{r["askPrice"]}","A":"{r["askQty"]}"}}',
            )
        for n in (5, 10, 20):
            streams = [f"{name}@depth{n}@100ms"] + ([f"{name}@depth{n}", f"{name}@depth{n}@1000ms"] if second else [])
            streams = [s for s in streams if self.hub.wants(s)]
            if streams:
                bids, asks = m.book(n)
                payload = json.dumps(
                    {
                        "lastUpdateId": m.book_version,
                        "bids": fmt.binance_levels(m, bids),
                        "asks": fmt.binance_levels(m, asks),
                    },
                    separators=(",", ":"),
                )
                for s in streams:
                    send(self.hub, s, payload)

    def depth_diffs(self, m: Market, now: int, second: bool) -> None:
        """<s>@depth@100ms: each step's changes; <s>@depth: a second's changes folded into one."""
        name = m.spec.symbol.lower()
        fast, slow = f"{name}@depth@100ms", f"{name}@depth"
        want_fast, want_slow = self.hub.wants(fast), self.hub.wants(slow)
        if not want_slow:
            self.slow_diffs.pop(name, None)
        if not (want_fast or want_slow):
            self.diff_books.pop(name, None)  # nobody diffs: don't keep (or compute) the full book
            return
        book = self.diff_books.get(name)
        if book is None:
            self.diff_books[name] = DiffBook.of(m)  # the first event will start at the next version
            return
        diff = book.advance(m)
        if diff is not None and self.sim.take_dropped_diff("binance", m.spec.symbol):
            diff = None  # lost: neither stream gets these changes
        if diff is not None:
            if want_fast:
                send(self.hub, fast, fmt.binance_depth_update(m, diff, now))
            if want_slow:
                pending = self.slow_diffs.get(name)
                if pending is None:
                    self.slow_diffs[name] = Diff(diff.first_id, diff.last_id, dict(diff.bids), dict(diff.asks))
                else:
                    pending.merge(diff)
        if second and name in self.slow_diffs:
            send(self.hub, slow, fmt.binance_depth_update(m, self.slow_diffs.pop(name), now))

    def klines(self, m: Market, now: int, periodic: bool) -> None:
        name = m.spec.symbol.lower()
        for interval in BINANCE_INTERVALS:
            stream = f"{name}@kline_{interval}"
            if not self.hub.wants(stream):
                self.kline_open.pop(stream, None)  # a later subscriber starts at its current candle
                continue
            current = align(now, interval)
            prev = self.kline_open.get(stream, current)
            book = self.sim.books[("binance", m.spec.symbol)]
            # Every bucket that closed since the last push gets its final x=true frame, in order.
            first = max(prev, shift(current, interval, -100))
            for opened in opens_from(interval, first, shift(current, interval, -1), 100):
                row = book.bucket(interval, opened, now)
                if row is not None:
                    closes = next_open(opened, interval)
                    frame = fmt.binance_kline_event(m, row, interval, closes - opened, True, now)
                    send(self.hub, stream, frame, closed_ms=closes)
            self.kline_open[stream] = current
            if periodic or prev != current or stream in self.hub.fresh:
                row = book.bucket(interval, current, now)
                if row is not None:
                    length = next_open(current, interval) - current
                    send(self.hub, stream, fmt.binance_kline_event(m, row, interval, length, False, now))

    def tickers(self, now: int, periodic: bool) -> None:
        fresh = self.hub.fresh
        if not periodic and not any(k.endswith("icker") or "@arr" in k for k in fresh):
            return
        minis = []
        for (exchange, symbol), m in self.sim.markets.items():
            if exchange != "binance":
                continue
            name = symbol.lower()
            want_mini = self.hub.wants(f"{name}@miniTicker")
            want_full = self.hub.wants(f"{name}@ticker")
            want_arr = self.hub.wants("!miniTicker@arr") or self.hub.wants("!miniTicker@arr@1000ms")
            if not (want_mini or want_full or want_arr):
                continue
            stats = rolling_24h(self.sim.books[(exchange, symbol)], now)
            mini = fmt.binance_ticker_event(m, stats, now, True)
            if want_mini:
                send(self.hub, f"{name}@miniTicker", mini)
            if want_full:
                send(self.hub, f"{name}@ticker", fmt.binance_ticker_event(m, stats, now, False))
            minis.append(mini)
        if minis:
            arr = "[" + ",".join(minis) + "]"
            for stream in ("!miniTicker@arr", "!miniTicker@arr@1000ms"):
                if self.hub.wants(stream):
                    send(self.hub, stream, arr)
