"""Binance stream fidelity: final klines, the diff-depth book sync, 1s klines, the message limit."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import websockets

from apps.market.simulator import ExchangeSimulator

from .clients import binance_client, binance_sockets


async def _collect(socket, seconds: float) -> list[dict]:  # type: ignore[no-untyped-def]
    out: list[dict] = []
    end = asyncio.get_running_loop().time() + seconds
    while (left := end - asyncio.get_running_loop().time()) > 0:
        try:
            out.append(await asyncio.wait_for(socket.recv(), left))
        except TimeoutError:
            break
    return out


async def test_closed_kline_includes_every_trade_of_its_interval(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    # 60x: a minute closes every wall second, and a trade can print just before the boundary.
    sim: ExchangeSimulator = exchange_sim_factory(seed=3, clock_speed=120.0, symbols=["BTCUSDT"])
    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).multiplex_socket(["btcusdt@trade", "btcusdt@kline_1m"]) as s:
            frames = [m["data"] for m in await _collect(s, 4.0) if "data" in m]
    finally:
        await client.close_connection()
    trades = [f for f in frames if f.get("e") == "trade"]
    first_id = trades[0]["t"]
    checked = 0
    for i, frame in enumerate(frames):
        if frame.get("e") != "kline" or not frame["k"]["x"] or frame["k"]["f"] <= first_id:
            continue  # only minutes whose every trade we saw on this connection
        k = frame["k"]
        inside = [t for t in frames[:i] if t.get("e") == "trade" and k["t"] <= t["T"] <= k["T"]]
        assert [t["t"] for t in inside] == list(range(k["f"], k["L"] + 1))
        assert len(inside) == k["n"] and sum(Decimal(t["q"]) for t in inside) == Decimal(k["v"])
        assert Decimal(inside[-1]["p"]) == Decimal(k["c"])
        late = [t for t in frames[i:] if t.get("e") == "trade" and t["T"] <= k["T"]]
        assert not late, (k, late[:2])
        checked += 1
    assert checked >= 3


class _LocalBook:
    """A client's order book kept by Binance's diff-book sync rule (EXCHANGE_PROTOCOLS.md A.1)."""

    def __init__(self, snapshot: dict) -> None:
        self.update_id = snapshot["lastUpdateId"]
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
        self.synced = False

    def apply(self, event: dict) -> None:
        if event["u"] <= self.update_id:
            return  # already in the snapshot
        if self.synced:
            assert event["U"] == self.update_id + 1, ("gap", self.update_id, event["U"])
        else:
            assert event["U"] <= self.update_id + 1 <= event["u"], ("first event", self.update_id, event["U"])
            self.synced = True
        for side, levels in ((self.bids, event["b"]), (self.asks, event["a"])):
            for p, q in levels:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(q)
        self.update_id = event["u"]

    def top(self, depth: int) -> tuple[list, list]:
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        return bids, sorted(self.asks.items())[:depth]


async def test_diff_depth_stream_syncs_a_local_book_equal_to_the_simulators(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=5, symbols=["BTCUSDT"])
    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).depth_socket("BTCUSDT", interval=100) as s:
            buffered = [await asyncio.wait_for(s.recv(), 5)]
            assert buffered[0]["e"] == "depthUpdate" and buffered[0]["s"] == "BTCUSDT"
            snapshot = await client.get_order_book(symbol="BTCUSDT", limit=5000)
            while snapshot["lastUpdateId"] < buffered[0]["U"]:
                snapshot = await client.get_order_book(symbol="BTCUSDT", limit=5000)
            book = _LocalBook(snapshot)
            for event in buffered:
                book.apply(event)
            compared = 0
            for _ in range(300):
                book.apply(await asyncio.wait_for(s.recv(), 5))
                truth = sim.book("binance", "BTCUSDT", depth=20)
                if truth.update_id != book.update_id:
                    continue  # the simulator moved on (or events are queued): compare next time
                assert book.top(20) == (list(truth.bids), list(truth.asks))
                compared += 1
                if compared == 3:
                    break
    finally:
        await client.close_connection()
    assert compared == 3 and book.synced


async def test_one_second_diff_stream_folds_steps_into_contiguous_events(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=5, symbols=["ETHUSDT"])
    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).multiplex_socket(["ethusdt@depth"]) as s:
            events = [m["data"] for m in await _collect(s, 3.5) if m.get("stream") == "ethusdt@depth"]
    finally:
        await client.close_connection()
    assert 2 <= len(events) <= 5  # one a second
    assert all(b["U"] == a["u"] + 1 for a, b in zip(events, events[1:], strict=False))
    assert all(e["u"] - e["U"] >= 5 for e in events[1:])  # about ten 100 ms steps each


async def test_one_second_klines_on_rest_and_ws(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=9, symbols=["BTCUSDT"], trade_rate_hz=5.0)
    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).kline_socket("BTCUSDT", interval="1s") as s:
            frames = [f for f in await _collect(s, 2.6) if f.get("e") == "kline"]
        history = await client.get_klines(symbol="BTCUSDT", interval="1s", startTime=sim.now_ms() - 3_600_000, limit=5)
        recent = await client.get_klines(symbol="BTCUSDT", interval="1s", limit=10)
    finally:
        await client.close_connection()
    closed = [f["k"] for f in frames if f["k"]["x"]]
    assert len(closed) >= 2 and all(k["i"] == "1s" and k["T"] == k["t"] + 999 for k in closed)
    assert all(b["t"] == a["t"] + 1000 for a, b in zip(closed, closed[1:], strict=False))
    for rows in (history, recent):
        assert len(rows) == len({r[0] for r in rows}) > 1
        assert all(b[0] == a[0] + 1000 and b[6] == b[0] + 999 for a, b in zip(rows, rows[1:], strict=False))
    # A streamed close is the same candle REST serves, and holds exactly its second's trades.
    by_open = {r[0]: r for r in recent}
    trades = sim.recent_trades("binance", "BTCUSDT")
    for k in (k for k in closed if k["t"] in by_open):
        row = by_open[k["t"]]
        assert (row[1], row[2], row[3], row[4], row[5], row[8]) == (k["o"], k["h"], k["l"], k["c"], k["v"], k["n"])
        inside = [t for t in trades if k["t"] <= t.ts_ms <= k["T"]]
        assert len(inside) == k["n"] and sum((t.quantity for t in inside), Decimal(0)) == Decimal(k["v"])


async def _closed_by_server(ws) -> int | None:  # type: ignore[no-untyped-def]
    """Read until the server closes the connection; its close code (None: still open after 3 s)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 3)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else -1
    except TimeoutError:
        return None


async def test_more_than_five_incoming_messages_a_second_disconnects(exchange_sim: ExchangeSimulator) -> None:
    url = f"{exchange_sim.binance_ws_url}ws/btcusdt@bookTicker"
    async with websockets.connect(url, ping_interval=None) as ws:
        for i in range(5):  # at the limit: served
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        replies = set()
        while len(replies) < 5:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            replies.add(msg.get("id"))
        await asyncio.sleep(1.05)  # a fresh window: five in the last second was fine
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 10}))
        while json.loads(await asyncio.wait_for(ws.recv(), 5)).get("id") != 10:
            pass
        for i in range(2):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 11 + i}))
        for _ in range(3):  # pings count too: the sixth message in a second is one too many
            await ws.ping()
        assert await _closed_by_server(ws) == 1008
