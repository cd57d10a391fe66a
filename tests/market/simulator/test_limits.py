"""A naive client is cut off or refused the way the exchanges do it, one rule at a time (limits
lowered so a rule is reached in a second or two; the defaults are the documented values)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import websockets
from binance.exceptions import BinanceAPIException

from apps.market.simulator import ExchangeSimulator
from apps.market.simulator.limits import BinanceLimits, KucoinLimits, Limits, PongDeadline
from apps.market.simulator.rest_limits import binance_weight, kucoin_weight

from .clients import Market, binance_client

pytestmark = pytest.mark.asyncio
WAIT = 15  # generous bound on an event that comes after a second or two


def _sim(factory, **limits) -> ExchangeSimulator:  # type: ignore[no-untyped-def]
    return factory(seed=3, symbols=["BTCUSDT", "ETHUSDT"], limits=Limits(**limits))


@contextlib.asynccontextmanager
async def _binance_raw(sim: ExchangeSimulator) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A bare client that answers no ping by itself."""
    url = f"{sim.binance_ws_url}ws/btcusdt@trade"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, autoping=False) as ws:
        yield ws


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    """Read (not answering pings) until the connection ends; the last message."""
    while True:
        msg = await asyncio.wait_for(ws.receive(), WAIT)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return msg


# -- pure rules --------------------------------------------------------------------------------
async def test_only_a_pong_copying_a_ping_answers_it() -> None:
    deadline = PongDeadline(60.0)
    deadline.sent(b"a", 0.0)
    deadline.sent(b"b", 20.0)
    deadline.pong(b"unsolicited")
    assert deadline.late(60.5)
    deadline.pong(b"a")  # answers "a" only: "b" is still open
    assert not deadline.late(79.0) and deadline.late(80.5)
    deadline.pong(b"b")
    assert not deadline.late(1000.0)


async def test_request_weights_are_the_documented_ones() -> None:
    assert binance_weight("/api/v3/depth", {"limit": "5000"}) == 250
    assert binance_weight("/api/v3/ticker/24hr", {}) == 80
    assert binance_weight("/api/v3/ticker/24hr", {"symbols": '["A","B"]'}) == 2
    assert binance_weight("/api/v3/exchangeInfo", {}) == 20
    assert kucoin_weight("/api/v1/market/allTickers") == ("Public", 15)
    assert kucoin_weight("/api/v1/market/stats") == ("Public", 15)
    assert kucoin_weight("/api/v2/symbols") == ("Public", 4)
    assert kucoin_weight("/api/v1/market/candles") == ("Public", 3)
    assert kucoin_weight("/api/v1/bullet-public") == ("Public", 10)
    assert kucoin_weight("/api/v1/market/orderbook/level2_100") == ("Public", 2)


# -- Binance WebSocket ------------------------------------------------------------------------
async def test_binance_drops_a_client_that_does_not_pong(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(ping_interval_s=0.3, pong_timeout_s=1.0))
    async with _binance_raw(sim) as ws:
        assert (await _until_closed(ws)).type != aiohttp.WSMsgType.CLOSE  # dropped, no close frame


async def test_binance_keeps_a_client_that_pongs_each_ping(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(ping_interval_s=0.3, pong_timeout_s=1.0))
    async with _binance_raw(sim) as ws:
        pings = 0
        while pings < 6:  # > pong_timeout_s worth of pings
            msg = await asyncio.wait_for(ws.receive(), WAIT)
            assert msg.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.TEXT), msg
            if msg.type == aiohttp.WSMsgType.PING:
                pings += 1
                await ws.pong(msg.data)
        while (await asyncio.wait_for(ws.receive(), WAIT)).type != aiohttp.WSMsgType.TEXT:
            pass  # trades still flow


async def test_binance_unsolicited_pongs_do_not_keep_a_connection(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(ping_interval_s=0.3, pong_timeout_s=1.0))
    async with _binance_raw(sim) as ws:
        while True:
            msg = await asyncio.wait_for(ws.receive(), WAIT)
            if msg.type == aiohttp.WSMsgType.PING:
                await ws.pong(b"not-the-payload")
            elif msg.type != aiohttp.WSMsgType.TEXT:
                break
        assert msg.type != aiohttp.WSMsgType.CLOSE


async def test_binance_refuses_more_streams_than_a_connection_takes(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(streams_per_connection=3))
    streams = "/".join(f"btcusdt@kline_{tf}" for tf in ("1m", "5m", "15m", "1h"))
    async with websockets.connect(f"{sim.binance_ws_url}stream?streams={streams}") as ws:
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    async with websockets.connect(f"{sim.binance_ws_url}stream?streams=btcusdt@trade/ethusdt@trade") as ws:
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@ticker"], "id": 1}))
        while json.loads(await asyncio.wait_for(ws.recv(), WAIT)).get("id") != 1:
            pass  # three streams: accepted
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@ticker"], "id": 2}))
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_binance_refuses_connection_attempts_over_the_rate(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(connection_attempts=3))
    for _ in range(3):
        async with websockets.connect(f"{sim.binance_ws_url}ws/btcusdt@trade"):
            pass
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{sim.binance_ws_url}ws/btcusdt@trade")
    assert refused.value.response.status_code == 429


# -- Binance REST -----------------------------------------------------------------------------
async def test_binance_answers_429_then_bans_a_client_that_does_not_back_off(exchange_sim_factory) -> None:
    # AsyncClient.create spends 2 (ping + time); each klines call 2: the 5th call goes over 10.
    sim = _sim(exchange_sim_factory, binance=BinanceLimits(weight_limit=10, requests_after_429=2, ban_s=120))
    client = await binance_client(sim)
    try:
        for _ in range(4):
            await client.get_klines(symbol="BTCUSDT", interval="1m", limit=5)
        assert client.response.headers["X-MBX-USED-WEIGHT-1M"] == "10"
        with pytest.raises(BinanceAPIException) as limited:
            await client.get_klines(symbol="BTCUSDT", interval="1m", limit=5)
        assert limited.value.status_code == 429 and limited.value.code == -1003
        assert 1 <= int(limited.value.response.headers["Retry-After"]) <= 60
        statuses = []
        for _ in range(3):  # not backing off: two more are tolerated, the third is banned
            with pytest.raises(BinanceAPIException) as refused:
                await client.get_server_time()
            statuses.append(refused.value.status_code)
        assert statuses == [429, 429, 418]
        assert refused.value.response.headers["Retry-After"] == "120"
    finally:
        await client.close_connection()


# -- KuCoin WebSocket -------------------------------------------------------------------------
async def _kucoin_connect(sim: ExchangeSimulator) -> websockets.ClientConnection:
    bullet = await asyncio.to_thread(_bullet, sim)
    server = bullet["instanceServers"][0]
    ws = await websockets.connect(f"{server['endpoint']}?token={bullet['token']}&connectId=naive", ping_interval=None)
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "welcome"
    return ws


def _bullet(sim: ExchangeSimulator) -> dict:
    import requests

    return requests.post(f"{sim.kucoin_rest_url}/api/v1/bullet-public", timeout=10).json()["data"]


async def _kucoin_until_error(ws: websockets.ClientConnection) -> dict:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if msg["type"] == "error":
            return msg


async def test_kucoin_drops_a_client_that_stops_pinging(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, kucoin=KucoinLimits(ping_interval_ms=500, ping_timeout_ms=500))
    ws = await _kucoin_connect(sim)
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "topic": "/market/match:BTC-USDT", "response": True}))
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert closed.value.rcvd is None  # dropped without a close frame


async def test_kucoin_cuts_a_client_over_its_uplink_rate(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, kucoin=KucoinLimits(uplink_messages=10))
    ws = await _kucoin_connect(sim)
    for i in range(11):
        await ws.send(json.dumps({"id": str(i), "type": "ping"}))
    error = await _kucoin_until_error(ws)
    assert error["code"] == 509 and error["data"] == "exceed max permits per 10 seconds"
    with pytest.raises(websockets.ConnectionClosedError):
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)


async def test_kucoin_refuses_too_many_topics_per_subscribe_and_per_connection(exchange_sim_factory) -> None:
    sim = exchange_sim_factory(
        seed=3,
        symbols=["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        limits=Limits(kucoin=KucoinLimits(topics_per_subscribe=2, topics_per_connection=4)),
    )
    ws = await _kucoin_connect(sim)
    topic = "/market/match:BTC-USDT,ETH-USDT,SOL-USDT"  # three symbols: three topics
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "topic": topic, "response": True}))
    error = await _kucoin_until_error(ws)
    assert error["code"] == 509 and error["data"] == "exceed max subscription count limitation of 2 per time"
    for i, prefix in enumerate(("/market/match", "/market/ticker")):
        await ws.send(json.dumps({"id": f"a{i}", "type": "subscribe", "topic": f"{prefix}:BTC-USDT,ETH-USDT"}))
    await ws.send(json.dumps({"id": "b", "type": "subscribe", "topic": "/spotMarket/level2Depth5:BTC-USDT"}))
    error = await _kucoin_until_error(ws)
    assert error["id"] == "b" and error["data"] == "exceed max subscription count limitation of 4 per session"
    await ws.close()


async def test_kucoin_refuses_a_candle_topic_listing_symbols(exchange_sim_factory) -> None:
    ws = await _kucoin_connect(_sim(exchange_sim_factory))
    topic = "/market/candles:BTC-USDT_1min,ETH-USDT_1min"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "topic": topic, "response": True}))
    assert (await _kucoin_until_error(ws))["code"] == 404
    await ws.close()


async def test_kucoin_refuses_connections_over_its_limits(exchange_sim_factory) -> None:
    sim = _sim(exchange_sim_factory, kucoin=KucoinLimits(connections=2, connection_attempts=3))
    first, second = await _kucoin_connect(sim), await _kucoin_connect(sim)
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _kucoin_connect(sim)  # a third open at once
    assert refused.value.response.status_code == 429
    await first.close()
    await second.close()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _kucoin_connect(sim)  # a fourth attempt within the minute
    assert refused.value.response.status_code == 429


# -- KuCoin REST -------------------------------------------------------------------------------
async def test_kucoin_spends_each_endpoints_weight_and_answers_429000(exchange_sim_factory) -> None:
    sim = _sim(
        exchange_sim_factory, kucoin=KucoinLimits(pool_limits=(("Public", 20), ("Spot", 40), ("Management", 20)))
    )
    market = Market(url=sim.kucoin_rest_url)
    market.get_all_tickers()  # 15
    with pytest.raises(Exception, match="429-.*429000"):
        market.get_all_tickers()  # 30 > 20
    async with aiohttp.ClientSession() as session, session.get(f"{sim.kucoin_rest_url}/api/v1/timestamp") as resp:
        assert resp.status == 429
        assert resp.headers["gw-ratelimit-limit"] == "20"
        assert resp.headers["gw-ratelimit-remaining"] == "0"
        assert 0 < int(resp.headers["gw-ratelimit-reset"]) <= 30_000
        assert (await resp.json())["code"] == "429000"
