"""Binance streams through the real python-binance BinanceSocketManager, plus raw-protocol checks."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import websockets

from apps.market.simulator import ExchangeSimulator

from .clients import binance_client, binance_sockets


async def _recv(socket, predicate=lambda m: True, timeout: float = 5.0) -> dict:  # type: ignore[no-untyped-def]
    async def loop() -> dict:
        while True:
            msg = await socket.recv()
            if predicate(msg):
                return msg

    return await asyncio.wait_for(loop(), timeout)


async def _first(socket_cm) -> dict | list:  # type: ignore[no-untyped-def]
    async with socket_cm as s:
        return await _recv(s)


async def test_trade_kline_ticker_book_depth_streams(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    bsm = binance_sockets(exchange_sim, client)
    try:
        trade, kline, ticker, book, depth, minis = await asyncio.gather(
            _first(bsm.trade_socket("BTCUSDT")),
            _first(bsm.kline_socket("ETHUSDT", interval="1m")),
            _first(bsm.symbol_ticker_socket("SOLUSDT")),
            _first(bsm.symbol_book_ticker_socket("XRPUSDT")),
            _first(bsm.depth_socket("BTCUSDT", depth="5", interval=100)),
            _first(bsm.miniticker_socket(update_time=1000)),
        )
    finally:
        await client.close_connection()
    assert trade["e"] == "trade" and trade["s"] == "BTCUSDT"
    assert isinstance(trade["t"], int) and isinstance(trade["T"], int) and isinstance(trade["m"], bool)
    assert Decimal(trade["p"]) > 0 and Decimal(trade["q"]) > 0
    k = kline["k"]
    assert kline["e"] == "kline" and k["i"] == "1m" and k["x"] is False and k["T"] == k["t"] + 59_999
    assert Decimal(k["l"]) <= Decimal(k["c"]) <= Decimal(k["h"]) and isinstance(k["n"], int)
    assert ticker["e"] == "24hrTicker" and {"p", "P", "w", "c", "b", "a", "o", "h", "l", "v", "q", "n"} <= set(ticker)
    assert set(book) == {"u", "s", "b", "B", "a", "A"} and Decimal(book["b"]) < Decimal(book["a"])
    assert set(depth) == {"lastUpdateId", "bids", "asks"} and len(depth["bids"]) == 5 == len(depth["asks"])
    assert isinstance(minis, list) and {m["s"] for m in minis} >= {"BTCUSDT", "DOGEUSDT"}
    assert minis[0]["e"] == "24hrMiniTicker"


async def test_combined_stream_wrapper(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    bsm = binance_sockets(exchange_sim, client)
    try:
        async with bsm.multiplex_socket(["btcusdt@trade", "ethusdt@aggTrade"]) as s:
            seen = set()
            while len(seen) < 2:
                msg = await _recv(s)
                assert set(msg) == {"stream", "data"}
                seen.add(msg["stream"])
        assert seen == {"btcusdt@trade", "ethusdt@aggTrade"}
    finally:
        await client.close_connection()


async def test_live_subscribe_unsubscribe_list(exchange_sim: ExchangeSimulator) -> None:
    async with websockets.connect(f"{exchange_sim.binance_ws_url}ws") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@kline_5m"], "id": 1}))
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["nope@trade"], "id": "x2"}))
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
        replies = {}
        while len(replies) < 2 or "trade" not in replies:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            replies["trade" if msg.get("e") == "trade" else msg.get("id")] = msg
        assert replies["x2"]["error"]["code"] == 2
        assert replies[3]["result"] == ["btcusdt@trade", "ethusdt@kline_5m"]
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 4}))
        while json.loads(await asyncio.wait_for(ws.recv(), 5)).get("id") != 4:
            pass
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 5}))
        while (msg := json.loads(await asyncio.wait_for(ws.recv(), 5))).get("id") != 5:
            pass
        assert msg["result"] == ["ethusdt@kline_5m"]


async def test_faults_seen_by_python_binance(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    bsm = binance_sockets(exchange_sim, client)
    try:
        async with bsm.trade_socket("BTCUSDT") as s:
            await _recv(s)
            exchange_sim.faults.binance_server_shutdown(close_after=0.2)
            shutdown = await _recv(s, lambda m: m.get("e") == "serverShutdown")
            assert isinstance(shutdown["E"], int)
            err = await _recv(s, lambda m: m.get("e") == "error")
            assert err["type"] in ("ConnectionClosedOK", "BinanceWebsocketClosed")
            # python-binance reconnects to the same URL and the data resumes.
            assert (await _recv(s, lambda m: m.get("e") == "trade", timeout=8))["s"] == "BTCUSDT"
            exchange_sim.faults.drop_connections("binance")
            await _recv(s, lambda m: m.get("e") == "error")
            await _recv(s, lambda m: m.get("e") == "trade", timeout=8)
    finally:
        await client.close_connection()


async def test_stall_and_malformed_frame_raw(exchange_sim: ExchangeSimulator) -> None:
    async with websockets.connect(f"{exchange_sim.binance_ws_url}stream?streams=btcusdt@trade") as ws:
        await asyncio.wait_for(ws.recv(), 5)
        exchange_sim.faults.stall("binance", 1.0)
        await asyncio.sleep(0.2)
        while True:  # drain frames sent before the stall began
            try:
                await asyncio.wait_for(ws.recv(), 0.3)
            except TimeoutError:
                break
        json.loads(await asyncio.wait_for(ws.recv(), 5))  # frames resume after the stall
        exchange_sim.faults.malformed_frame("binance")
        bad = False
        for _ in range(200):
            try:
                json.loads(await asyncio.wait_for(ws.recv(), 5))
            except ValueError:
                bad = True
                break
        assert bad
