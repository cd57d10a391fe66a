"""The KuCoin WebSocket guard alone stops private connections and private subscriptions.

The simulator serves public topics only; for these tests its tripwires are extended (in the
test, not in the simulator) to record a bullet-private token request and any private or
privateChannel subscription that reaches it. A control test shows they fire unguarded.
"""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest
import requests

from apps.market.feeds.adapters import kucoin_ws_shutdown
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.factory import kucoin_market_client
from apps.safety.transport import GuardedKucoinWsClient
from tests.safety.conftest import violations_count

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from kucoin.ws_client import KucoinWsClient

pytestmark = pytest.mark.django_db(transaction=True)

PRIVATE_TOPICS = ("/spotMarket/tradeOrders", "/account/balance", "/spotMarket/advancedOrders")


@pytest.fixture(autouse=True)
def _connect_at_once(monkeypatch):
    """kucoin-python sleeps 1-2 s before every (re)connect; the tests need not wait."""
    from kucoin.websocket.websocket import ConnectWebsocket

    monkeypatch.setattr(ConnectWebsocket, "_get_reconnect_wait", lambda self, attempts: 0)


async def _until(predicate, timeout=20.0):  # a condition, generous for a loaded machine
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def _connected(ws):
    await _until(lambda: ws._conn._socket is not None)


async def test_control_unguarded_private_use_hits_the_tripwires(sim, tripwires):
    requests.post(f"{sim.kucoin_rest_url}/api/v1/bullet-private", timeout=5)
    token = kucoin_market_client(rest_url=sim.kucoin_rest_url).ws_token()

    async def ignore(message):  # kucoin-python awaits its callback
        return None

    ws = await KucoinWsClient.create(None, token, ignore)
    try:
        await _connected(ws)
        await ws.subscribe("/spotMarket/tradeOrders")
        await _until(lambda: len(tripwires()) == 2)
    finally:
        await kucoin_ws_shutdown(ws)
    assert [hit["path"] for hit in tripwires()] == ["/api/v1/bullet-private", "/spotMarket/tradeOrders"]


async def test_public_socket_streams_market_data(sim, tripwires):
    received = []

    async def callback(message):
        received.append(message)

    ws = await kucoin_market_client(rest_url=sim.kucoin_rest_url).public_ws(callback)
    try:
        await ws.subscribe("/market/match:BTC-USDT")
        await _until(lambda: any(m.get("topic") == "/market/match:BTC-USDT" for m in received))
    finally:
        await kucoin_ws_shutdown(ws)
    assert tripwires() == []


async def test_transport_alone_refuses_private_sockets_and_topics(sim, tripwires, refused_events):
    client = kucoin_market_client(rest_url=sim.kucoin_rest_url)
    before = violations_count("transport")
    with pytest.raises(RealTradingAttemptError, match="private websocket"):
        await GuardedKucoinWsClient.create(None, client.ws_token(), lambda m: None, private=True)
    ws = await client.public_ws(lambda m: None)
    try:
        await _connected(ws)
        for topic in PRIVATE_TOPICS:
            with pytest.raises(RealTradingAttemptError, match="private"):
                await ws.subscribe(topic)
        assert ws.topics == []  # nothing left for the library to resubscribe on reconnect
        # Below the client API: the connection and the raw socket check every frame.
        with pytest.raises(RealTradingAttemptError):
            await ws._conn.send_message({"type": "subscribe", "topic": "/account/balance", "response": True})
        with pytest.raises(RealTradingAttemptError, match="private channel"):
            frame = {"id": "1", "type": "subscribe", "topic": "/market/match:BTC-USDT", "privateChannel": True}
            await ws._conn._socket.send(json.dumps(frame))
        with pytest.raises(RealTradingAttemptError):
            await ws._conn._socket.send(json.dumps({"id": "1", "type": "openTunnel", "newTunnelId": "t"}))
        with pytest.raises(RealTradingAttemptError):
            ws._conn._private = True
        with pytest.raises(RealTradingAttemptError):
            ws._conn._client.get_ws_token(True)
        await ws.subscribe("/market/ticker:BTC-USDT")  # the socket still serves public topics
    finally:
        await kucoin_ws_shutdown(ws)
    assert violations_count("transport") == before + 9
    events = refused_events(action="transport_refused")
    assert len(events) == 9
    assert {e.data["exchange"] for e in events} == {"kucoin"}
    assert tripwires() == []
