"""KuCoin spot WebSocket: welcome, ping/pong, subscribe/unsubscribe with ack, topic messages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from . import kc_fmt
from .candles import rolling_windows
from .control import SIM
from .depth import DiffBook
from .hub import Conn, Hub
from .intervals import KUCOIN_WS_TYPES, align, next_open, opens_from, shift
from .limits import PingWatch, SlidingCount
from .market import Market, Trade

if TYPE_CHECKING:
    from .state import SimState

_PREFIXES = (
    "/market/ticker",
    "/market/candles",
    "/market/match",
    "/market/snapshot",
    "/market/level2",
    "/spotMarket/level2Depth5",
    "/spotMarket/level2Depth50",
)


def topic_keys(sim: SimState, topic: str) -> list[str] | None:
    """'/market/match:BTC-USDT,ETH-USDT' -> one key per symbol, or None if invalid."""
    prefix, _, rest = topic.partition(":")
    if prefix not in _PREFIXES or not rest:
        return None
    if prefix in ("/market/candles", "/market/snapshot") and "," in rest:
        return None  # [unknown] the spec's candle and snapshot topics name one symbol: a list is refused
    keys = []
    for item in rest.split(","):
        if prefix == "/market/ticker" and item == "all":
            keys.append(f"{prefix}:all")
            continue
        symbol, ctype = (item.rsplit("_", 1) + [""])[:2] if prefix == "/market/candles" else (item, "")
        if sim.kucoin_market(symbol) is None or (prefix == "/market/candles" and ctype not in KUCOIN_WS_TYPES):
            return None
        keys.append(f"{prefix}:{item}")
    return keys


async def ws_handler(request: web.Request) -> web.StreamResponse:
    sim: SimState = request.app[SIM]  # type: ignore[assignment]
    ip = request.remote or ""
    if sim.kucoin_gate.admit(ip, time.monotonic()) is not None:
        # [unknown] how KuCoin refuses connection 31 in a minute (or 51 open): the handshake answers 429.
        return web.json_response({"code": "429000", "msg": "Too Many Requests"}, status=429)
    try:
        return await _serve(sim, request)
    finally:
        sim.kucoin_gate.closed(ip)


async def _serve(sim: SimState, request: web.Request) -> web.WebSocketResponse:
    # autoping off: ping frames count as uplink messages too.
    ws = web.WebSocketResponse(max_msg_size=1 << 20, autoping=False)
    await ws.prepare(request)
    connect_id = request.query.get("connectId", "") or "sim"
    if not sim.kucoin_token_valid(request.query.get("token", "")):
        await ws.send_str(json.dumps({"id": connect_id, "type": "error", "code": 401, "data": "token is expired"}))
        await ws.close()
        return ws
    conn = Conn(ws, request)
    conn.connect_id = connect_id
    hub = sim.kucoin_hub
    hub.conns.add(conn)
    conn.push(json.dumps({"id": connect_id, "type": "welcome"}))
    limits = sim.limits.kucoin
    watch = conn.keepalive = PingWatch((limits.ping_interval_ms + limits.ping_timeout_ms) / 1000, time.monotonic())
    keepalive = asyncio.get_running_loop().create_task(_keepalive(conn, watch))
    try:
        await _receive(sim, ws, conn, watch)
    finally:
        keepalive.cancel()
        hub.remove(conn)
    return ws


async def _receive(sim: SimState, ws: web.WebSocketResponse, conn: Conn, watch: PingWatch) -> None:
    limits = sim.limits.kucoin
    uplink = SlidingCount(limits.uplink_messages, limits.uplink_window_s)
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            return
        if uplink.add(time.monotonic()):
            # As KuCoin does: an error message, then the connection is dropped without a close frame.
            error = {"id": conn.connect_id, "type": "error", "code": 509, "data": "exceed max permits per 10 seconds"}
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps(error))
            conn.abort()
            return
        if msg.type == WSMsgType.PING:
            await ws.pong(msg.data)
        elif msg.type == WSMsgType.TEXT:
            reply = _handle(sim, sim.kucoin_hub, conn, msg.data)
            if reply is not None and reply.get("type") == "pong":
                watch.ping(time.monotonic())
            if reply is not None:
                conn.push(json.dumps(reply))


async def _keepalive(conn: Conn, watch: PingWatch) -> None:
    """No ping for pingInterval + pingTimeout: the connection is dropped (no close frame)."""
    step = max(watch.deadline_s / 8, 0.05)
    while not conn.closed:
        if watch.late(time.monotonic()):
            conn.abort()
            return
        await asyncio.sleep(step)


def _handle(sim: SimState, hub: Hub, conn: Conn, text: str) -> dict | None:
    try:
        req = json.loads(text)
        rid, kind = str(req.get("id", "")), req.get("type")
    except (ValueError, AttributeError):
        return {"id": conn.connect_id, "type": "error", "code": 400, "data": "message is invalid"}
    if kind == "ping":
        return {"id": rid, "type": "pong", "timestamp": sim.clock.now_ms() * 1000}
    if kind in ("subscribe", "unsubscribe"):
        topic = str(req.get("topic", ""))
        if kind == "subscribe" and (req.get("privateChannel") or topic.partition(":")[0] not in _PREFIXES):
            return _private_refused(sim, rid, topic, text)
        keys = topic_keys(sim, topic)
        if keys is None:
            return {"id": rid, "type": "error", "code": 404, "data": f"topic {topic} is not found"}
        refusal = _subscribe_refusal(sim, conn, keys) if kind == "subscribe" else None
        if refusal is not None:
            return {"id": rid, "type": "error", "code": 509, "data": refusal}
        if kind == "subscribe":
            hub.subscribe(conn, keys, sim.clock.now_ms())  # duplicates are harmless
        else:
            hub.unsubscribe(conn, keys)
        return {"id": rid, "type": "ack"} if req.get("response", True) else None
    return {"id": rid, "type": "error", "code": 400, "data": f"type {kind} is not supported"}


def _private_refused(sim: SimState, rid: str, topic: str, text: str) -> dict:
    """Default-deny on the public socket, as the REST side is: a private channel or any topic
    that is not a public market topic (orders, balances, positions, a typo) is a tripwire.
    [unknown] KuCoin's own answer on a public token; stricter: refused with a 401 error."""
    hit = {"ts": int(time.time() * 1000), "exchange": "kucoin", "method": "WS", "path": topic, "body": text[:2000]}
    sim.tripwires.record(hit)
    return {"id": rid, "type": "error", "code": 401, "data": f"topic {topic} needs a private token"}


def _subscribe_refusal(sim: SimState, conn: Conn, keys: list[str]) -> str | None:
    """KuCoin's 509 texts (kucoin-python-sdk#32, ccxws#125); the whole subscribe is refused."""
    limits = sim.limits.kucoin
    if len(keys) > limits.topics_per_subscribe:
        return f"exceed max subscription count limitation of {limits.topics_per_subscribe} per time"
    if len(conn.subs | set(keys)) > limits.topics_per_connection:
        return f"exceed max subscription count limitation of {limits.topics_per_connection} per session"
    return None


def send(hub: Hub, key: str, text: str, closed_ms: int | None = None) -> None:
    for conn in hub.members(key, closed_ms):
        conn.push(text)
    hub.messages_sent += 1


class KucoinPublisher:
    def __init__(self, sim: SimState) -> None:
        self.sim = sim
        self.hub = sim.kucoin_hub
        self.candle_open: dict[str, int] = {}
        self.diff_books: dict[str, DiffBook] = {}

    def trades(self, m: Market, trades: list[Trade], now: int) -> None:
        key = f"/market/match:{m.spec.kucoin_symbol}"
        if self.hub.wants(key):
            for t in trades:
                send(self.hub, key, kc_fmt.match_message(m, t))

    def book(self, m: Market, now: int, changed: bool) -> None:
        sym = m.spec.kucoin_symbol
        if changed and (self.hub.wants(f"/market/ticker:{sym}") or self.hub.wants("/market/ticker:all")):
            data = kc_fmt.ticker_data(m, now)
            send(
                self.hub,
                f"/market/ticker:{sym}",
                f'{{"type":"message","topic":"/market/ticker:{sym}","subject":"trade.ticker","data":{data}}}',
            )
            send(
                self.hub,
                "/market/ticker:all",
                f'{{"type":"message","topic":"/market/ticker:all","subject":"{sym}","data":{data}}}',
            )
        for depth in (5, 50):
            key = f"/spotMarket/level2Depth{depth}:{sym}"
            if changed and self.hub.wants(key):
                bids, asks = m.book(depth)
                data = {"asks": kc_fmt.levels(m, asks), "bids": kc_fmt.levels(m, bids), "timestamp": now}
                send(
                    self.hub,
                    key,
                    json.dumps(
                        {"type": "message", "topic": key, "subject": "level2", "data": data}, separators=(",", ":")
                    ),
                )

    def level2(self, m: Market, now: int) -> None:
        """/market/level2:{symbol}: each book change as trade.l2update, numbered with the
        ``sequence`` the REST order books report, so a client can calibrate a local book
        (legacy docs "Level-2 Market Data"): sequenceStart = the previous sequenceEnd + 1."""
        key = f"/market/level2:{m.spec.kucoin_symbol}"
        if not self.hub.wants(key):
            self.diff_books.pop(key, None)  # nobody diffs: don't keep (or compute) the full book
            return
        book = self.diff_books.get(key)
        if book is None:
            self.diff_books[key] = DiffBook.of(m)  # the first update starts at the next version
            return
        diff = book.advance(m)
        if diff is not None and not self.sim.take_dropped_diff("kucoin", m.spec.symbol):
            send(self.hub, key, kc_fmt.l2update_message(m, diff, now))

    def snapshots(self, m: Market, now: int) -> None:
        """/market/snapshot:{symbol}, once every 2 s (the caller's cadence). A market's
        snapshot (/market/snapshot:USDS) is not served: it is refused as not found."""
        key = f"/market/snapshot:{m.spec.kucoin_symbol}"
        if self.hub.wants(key):
            hour, hours4, day = rolling_windows(self.sim.books[("kucoin", m.spec.symbol)], now, (60, 240, 1440))
            send(self.hub, key, kc_fmt.snapshot_message(m, hour, hours4, day, now))

    def candles(self, m: Market, now: int, changed: bool) -> None:
        sym = m.spec.kucoin_symbol
        for ctype, interval in KUCOIN_WS_TYPES.items():
            key = f"/market/candles:{sym}_{ctype}"
            if not self.hub.wants(key):
                self.candle_open.pop(key, None)  # a later subscriber starts at its current bucket
                continue
            current = align(now, interval)
            prev = self.candle_open.get(key, current)
            self.candle_open[key] = current
            book = self.sim.books[("kucoin", m.spec.symbol)]
            for opened in opens_from(interval, max(prev, shift(current, interval, -100)), current, 101):
                if opened == current and not (changed or prev != current):
                    continue
                row = book.bucket(interval, opened, now)
                if row is None:
                    continue
                subject = "trade.candles.add" if opened == current and prev != current else "trade.candles.update"
                data = {"symbol": sym, "candles": kc_fmt.candle_row(m, row), "time": now * 1_000_000}
                text = json.dumps(
                    {"type": "message", "topic": key, "subject": subject, "data": data}, separators=(",", ":")
                )
                send(self.hub, key, text, closed_ms=None if opened == current else next_open(opened, interval))
