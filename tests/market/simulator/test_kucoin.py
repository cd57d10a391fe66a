"""KuCoin conformance with the real kucoin-python REST and WebSocket clients."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
import websockets

from apps.market.simulator import ExchangeSimulator

from .clients import Market, Trade, User, kucoin_ws, kucoin_ws_close


def test_rest_market_data(exchange_sim: ExchangeSimulator) -> None:
    market = Market(url=exchange_sim.kucoin_rest_url)  # signs public calls with empty keys: must be ignored
    assert abs(market.get_server_timestamp() - exchange_sim.now_ms()) < 2000
    symbols = {s["symbol"]: s for s in market.get_symbol_list_v2()}
    assert symbols["BTC-USDT"]["priceIncrement"] == "0.1" and symbols["BTC-USDT"]["baseIncrement"] == "0.00000001"
    rows = market.get_kline("BTC-USDT", "1hour")
    assert len(rows) == 1500 and all(len(r) == 7 for r in rows)
    assert int(rows[0][0]) > int(rows[1][0])  # newest first
    _, o, c, h, low, vol, turnover = (Decimal(x) for x in rows[1])
    assert low <= min(o, c) <= max(o, c) <= h and vol > 0 and turnover > 0  # time, open, CLOSE, HIGH, LOW
    start = int(rows[-1][0])
    window = market.get_kline("BTC-USDT", "1hour", startAt=start, endAt=start + 5 * 3600)
    assert [int(r[0]) for r in window] == [start + i * 3600 for i in range(5, -1, -1)]
    assert window[-1] == rows[-1]
    stats = market.get_24h_stats("ETH-USDT")
    assert stats["symbol"] == "ETH-USDT" and Decimal(stats["buy"]) < Decimal(stats["sell"])
    level1 = market.get_ticker("SOL-USDT")
    assert Decimal(level1["bestBid"]) < Decimal(level1["bestAsk"])
    tickers = market.get_all_tickers()
    assert len(tickers["ticker"]) == 6
    with pytest.raises(Exception, match="900001"):
        market.get_ticker("NOPE-USDT")


def test_rest_rate_limit_fault(exchange_sim: ExchangeSimulator) -> None:
    market = Market(url=exchange_sim.kucoin_rest_url)
    exchange_sim.faults.rate_limit("kucoin", status=429, retry_after=3, count=1)
    with pytest.raises(Exception, match="429-.*429000"):
        market.get_server_timestamp()
    assert market.get_server_timestamp() > 0


def test_signed_api_key_and_fees(exchange_sim: ExchangeSimulator) -> None:
    exchange_sim.add_api_key("kucoin", "kkey", "ksecret", passphrase="kpass")
    exchange_sim.add_api_key("kucoin", "tkey", "ksecret", passphrase="kpass", permissions=["General", "Spot"])
    info = User("kkey", "ksecret", "kpass", url=exchange_sim.kucoin_rest_url)._request("GET", "/api/v1/user/api-key")
    assert info["permission"] == "General" and info["apiKey"] == "kkey" and info["apiVersion"] == 2
    trader = User("tkey", "ksecret", "kpass", url=exchange_sim.kucoin_rest_url)._request("GET", "/api/v1/user/api-key")
    assert trader["permission"] == "General,Spot"
    v1 = User("kkey", "ksecret", "kpass", is_v1api=True, url=exchange_sim.kucoin_rest_url)
    assert v1._request("GET", "/api/v1/base-fee") == {"takerFeeRate": "0.001", "makerFeeRate": "0.001"}
    with pytest.raises(Exception, match="400005"):
        User("kkey", "wrong", "kpass", url=exchange_sim.kucoin_rest_url)._request("GET", "/api/v1/user/api-key")
    with pytest.raises(Exception, match="400004"):
        User("kkey", "ksecret", "wrong", url=exchange_sim.kucoin_rest_url)._request("GET", "/api/v1/user/api-key")
    with pytest.raises(Exception, match="400003"):
        User("nokey", "ksecret", "kpass", url=exchange_sim.kucoin_rest_url)._request("GET", "/api/v1/user/api-key")


def test_trading_endpoints_are_tripwires(exchange_sim_factory, tmp_path: Path) -> None:
    log = tmp_path / "kc-tripwires.jsonl"
    sim = exchange_sim_factory(seed=3, tripwire_log=log)
    trade = Trade("k", "s", "p", url=sim.kucoin_rest_url)
    with pytest.raises(Exception, match="400007"):
        trade.create_market_order("BTC-USDT", "buy", size="0.001")
    with pytest.raises(Exception, match="403"):
        trade.create_limit_order("BTC-USDT", "buy", "0.001", "1000")
    assert [h["path"] for h in sim.tripwire_hits] == ["/api/v1/orders", "/api/v1/orders"]
    assert len(log.read_text().splitlines()) == 2


async def test_ws_topics_through_kucoin_python(exchange_sim: ExchangeSimulator) -> None:
    got: dict[str, dict] = {}
    done = asyncio.Event()

    async def on_message(msg: dict) -> None:
        got.setdefault(msg["topic"].split(":")[0], msg)
        if len(got) == 4:
            done.set()

    client = await kucoin_ws(exchange_sim, on_message)
    try:
        for topic in (
            "/market/match:BTC-USDT",
            "/market/ticker:ETH-USDT,SOL-USDT",
            "/market/candles:BTC-USDT_1min",
            "/spotMarket/level2Depth5:XRP-USDT",
        ):
            await client.subscribe(topic)
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await kucoin_ws_close(client)
    match = got["/market/match"]
    assert match["subject"] == "trade.l3match" and match["data"]["side"] in ("buy", "sell")
    assert len(match["data"]["time"]) == 19 and Decimal(match["data"]["price"]) > 0
    ticker = got["/market/ticker"]["data"]
    assert Decimal(ticker["bestBid"]) < Decimal(ticker["bestAsk"]) and isinstance(ticker["time"], int)
    candle = got["/market/candles"]["data"]
    assert candle["symbol"] == "BTC-USDT" and len(candle["candles"]) == 7
    depth = got["/spotMarket/level2Depth5"]["data"]
    assert len(depth["asks"]) == 5 == len(depth["bids"])


async def _ws_session(sim: ExchangeSimulator):  # type: ignore[no-untyped-def]
    bullet = Market(url=sim.kucoin_rest_url)._request("POST", "/api/v1/bullet-public", auth=False)
    server = bullet["instanceServers"][0]
    assert server["encrypt"] is None and server["pingTimeout"] >= 3000
    return await websockets.connect(f"{server['endpoint']}?token={bullet['token']}&connectId=abc123")


async def test_ws_protocol_welcome_ping_ack_errors(exchange_sim: ExchangeSimulator) -> None:
    ws = await _ws_session(exchange_sim)
    try:
        assert json.loads(await ws.recv()) == {"id": "abc123", "type": "welcome"}
        await ws.send(json.dumps({"id": "77", "type": "ping"}))
        pong = json.loads(await ws.recv())
        assert (pong["id"], pong["type"]) == ("77", "pong")
        sub = {
            "id": 1545910660739,
            "type": "subscribe",
            "topic": "/market/match:BTC-USDT",
            "privateChannel": False,
            "response": True,
        }
        await ws.send(json.dumps(sub))
        await ws.send(json.dumps(sub))  # duplicate subscribes are tolerated
        assert json.loads(await ws.recv()) == {"id": "1545910660739", "type": "ack"}
        await ws.send(json.dumps({**sub, "id": "9", "topic": "/market/match:BTCUSDT"}))
        seen_error = None
        for _ in range(500):
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg.get("type") == "error":
                seen_error = msg
                break
        assert seen_error == {
            "id": "9",
            "type": "error",
            "code": 404,
            "data": "topic /market/match:BTCUSDT is not found",
        }
        exchange_sim.faults.kucoin_error("server busy")
        for _ in range(500):
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg.get("type") == "error":
                assert msg == {"id": "abc123", "type": "error", "code": 500, "data": "server busy"}
                break
        else:
            pytest.fail("no error message")
        exchange_sim.faults.drop_connections("kucoin")
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(10_000):
                await asyncio.wait_for(ws.recv(), 5)
    finally:
        await ws.close()
