"""The process-wide transport guard (apps.safety.process_guard): bypasses of the per-session
guards from inside the process, against the real simulator. Each raises RealTradingAttemptError
and the simulator records no hit."""

from __future__ import annotations

import asyncio
import http.client

import aiohttp
import pytest
import requests
import urllib3
import websockets
from requests.adapters import HTTPAdapter

from apps.safety import process_guard
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.factory import binance_market_client, kucoin_market_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def binance_raw(sim):
    sim.add_api_key("binance", "pkey", "psecret", permissions={"enableSpotAndMarginTrading": True})
    client = await binance_market_client(
        rest_url=sim.binance_rest_url, ws_url=sim.binance_ws_url, api_key="pkey", api_secret="psecret"
    )
    yield object.__getattribute__(client, "_inner")
    await client.close()


@pytest.fixture
def kucoin_session(sim):
    client = kucoin_market_client(rest_url=sim.kucoin_rest_url)
    return object.__getattribute__(client, "_inner").session


async def test_the_guard_is_installed_at_start_up():
    assert process_guard.process_guard_intact()


async def test_trace_configs_cleared_and_middlewares_off_is_refused(sim, tripwires, binance_raw):
    session = binance_raw.session
    session._trace_configs = []
    with pytest.raises(RealTradingAttemptError):
        await session._request("POST", f"{sim.binance_rest_url}/api/v3/order", middlewares=())
    assert tripwires() == []


async def test_a_fresh_session_swapped_into_the_client_is_refused(sim, tripwires, binance_raw):
    old = binance_raw.session
    binance_raw.session = aiohttp.ClientSession()
    try:
        with pytest.raises(RealTradingAttemptError):
            await binance_raw.create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1")
    finally:
        await binance_raw.session.close()
        binance_raw.session = old
    assert tripwires() == []


async def test_a_fresh_aiohttp_session_is_refused(sim, tripwires, binance_raw):
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RealTradingAttemptError):
            await session.post(f"{sim.binance_rest_url}/api/v3/order", data={"symbol": "BTCUSDT"})
        with pytest.raises(RealTradingAttemptError):
            await session.ws_connect(f"{sim.binance_ws_url}ws-api/v3")
    assert tripwires() == []


async def test_websockets_connect_to_the_ws_api_is_refused(sim, tripwires, binance_raw):
    with pytest.raises(RealTradingAttemptError):
        async with websockets.connect(f"{sim.binance_ws_url}ws-api/v3"):
            pass
    assert tripwires() == []


def test_a_plain_adapter_put_into_the_kucoin_session_is_refused(sim, tripwires, kucoin_session):
    kucoin_session.adapters["http://"] = HTTPAdapter()
    prepared = requests.Request("POST", f"{sim.kucoin_rest_url}/api/v1/orders", data="{}").prepare()
    with pytest.raises(RealTradingAttemptError):
        requests.Session.send(kucoin_session, prepared)
    with pytest.raises(RealTradingAttemptError):
        HTTPAdapter().send(prepared)
    assert tripwires() == []


def test_fresh_requests_urllib3_and_http_client_are_refused(sim, tripwires, kucoin_session):
    url = f"{sim.kucoin_rest_url}/api/v1/orders"
    with pytest.raises(RealTradingAttemptError):
        requests.Session().post(url, json={"symbol": "BTC-USDT"})
    with pytest.raises(RealTradingAttemptError):
        urllib3.PoolManager().request("POST", url, body=b"{}")
    with pytest.raises(RealTradingAttemptError):
        urllib3.HTTPConnectionPool(sim.host, sim.kucoin_port).urlopen("POST", "/api/v1/orders", body=b"{}")
    connection = http.client.HTTPConnection(sim.host, sim.kucoin_port)
    with pytest.raises(RealTradingAttemptError):
        connection.request("POST", "/api/v1/orders", body="{}")
    connection.close()
    assert tripwires() == []


async def test_taking_a_class_wrapper_off_stops_connections_to_the_exchange(sim, tripwires, binance_raw):
    wrapper = aiohttp.ClientSession.__dict__["_request"]
    aiohttp.ClientSession._request = process_guard._ORIGINALS[(aiohttp.ClientSession, "_request")]
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(RealTradingAttemptError, match="process-wide"):
                await session.post(f"{sim.binance_rest_url}/api/v3/order", data={"symbol": "BTCUSDT"})
    finally:
        aiohttp.ClientSession._request = wrapper
    assert process_guard.process_guard_intact()
    assert tripwires() == []


async def test_market_data_still_flows_through_every_client(sim, binance_raw, kucoin_session):
    assert await binance_raw.ping() == {}
    async with aiohttp.ClientSession() as session, session.get(f"{sim.binance_rest_url}/api/v3/time") as response:
        assert response.status == 200
    assert requests.Session().get(f"{sim.kucoin_rest_url}/api/v1/timestamp").status_code == 200
    assert urllib3.PoolManager().request("GET", f"{sim.kucoin_rest_url}/api/v1/timestamp").status == 200


async def test_a_raw_socket_to_the_exchange_is_refused(sim, tripwires, binance_raw):
    """Hand-written HTTP over a raw socket: refused at socket.connect (outside a checked request)."""
    with pytest.raises(RealTradingAttemptError, match="raw socket"):
        await asyncio.open_connection(sim.host, sim.binance_port)
    with pytest.raises(RealTradingAttemptError, match="raw socket"):
        http.client.HTTPConnection(sim.host, sim.binance_port).connect()
    assert tripwires() == []


async def test_calling_an_unwrapped_original_by_hand_is_refused(sim, tripwires, binance_raw):
    original = process_guard._ORIGINALS[(aiohttp.ClientSession, "_request")]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RealTradingAttemptError, match="raw socket or unwrapped"):
            await original(session, "POST", f"{sim.binance_rest_url}/api/v3/order")
    assert tripwires() == []
