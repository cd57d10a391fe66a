"""Each layer alone stops a real order, against the exchange simulator's tripwires.

Every test gives the simulator its own tripwire log, switches the *other* layers off and
asserts zero tripwire hits. A control test proves the tripwires do fire for an unguarded
request, so "zero hits" means something.
"""

from __future__ import annotations

import aiohttp
import pytest
import requests

from apps.market.simulator.server import ExchangeSimulator
from apps.safety import transport
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.factory import binance_market_client, kucoin_market_client
from tests.safety.conftest import violations_count

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_factory_block(monkeypatch):
    """Switch the factory layer off: trading attribute names are no longer refused."""
    monkeypatch.setattr("apps.safety.factory.is_trading_name", lambda name: False)


@pytest.fixture
def no_transport_guard(monkeypatch):
    monkeypatch.setattr(transport, "transport_check", lambda **kwargs: None)


def _raw(client):
    return object.__getattribute__(client, "_inner")


async def test_control_an_unguarded_request_does_hit_the_tripwire(tmp_path):
    """A simulator no exchange client was ever built for: its ports are not exchange endpoints
    to the process-wide guard (apps.safety.process_guard), so the request gets through."""
    fresh = ExchangeSimulator(seed=6, symbols=["BTCUSDT"], tripwire_log=tmp_path / "tripwires.jsonl")
    fresh.start_in_thread()
    try:
        url = f"{fresh.binance_rest_url}/api/v3/order"
        async with aiohttp.ClientSession() as session, session.post(url, data={"symbol": "BTCUSDT"}) as response:
            await response.read()
        assert len(fresh.tripwire_hits) == 1
    finally:
        fresh.stop_thread()


async def test_market_data_and_public_streams_work_through_the_guards(sim, tripwires):
    client = await binance_market_client(rest_url=sim.binance_rest_url, ws_url=sim.binance_ws_url)
    try:
        assert (await client.ping()) == {}
        assert abs(await client.server_time() - sim.now_ms()) < 5000
        assert any(s["symbol"] == "BTCUSDT" for s in (await client.exchange_info())["symbols"])
        assert len(await client.klines("BTCUSDT", "1m", limit=5)) == 5
        assert (await client.ticker_24h("BTCUSDT"))["symbol"] == "BTCUSDT"
        assert "bids" in await client.depth("BTCUSDT", limit=5)
        assert client.used_weight is not None
        manager = client.socket_manager()
        async with manager.trade_socket("BTCUSDT") as socket:
            message = await socket.recv()
        assert message["e"] == "trade"
    finally:
        await client.close()
    kucoin = kucoin_market_client(rest_url=sim.kucoin_rest_url)
    assert kucoin.server_time() > 0
    assert kucoin.level1("BTC-USDT")["price"]
    assert kucoin.ws_token().get_ws_token()["token"]
    assert tripwires() == []


# -- layer: factory alone -----------------------------------------------------------------


async def test_factory_alone_refuses_trading_methods(sim, tripwires, no_transport_guard, refused_events):
    client = await binance_market_client(rest_url=sim.binance_rest_url, ws_url=sim.binance_ws_url)
    try:
        for name in ("create_order", "order_market_buy", "cancel_order", "withdraw", "make_universal_transfer"):
            with pytest.raises(RealTradingAttemptError, match="factory"):
                getattr(client, name)
    finally:
        await client.close()
    kucoin = kucoin_market_client(rest_url=sim.kucoin_rest_url, api_key="k", api_secret="s", passphrase="p")
    with pytest.raises(RealTradingAttemptError):
        kucoin.create_market_order  # noqa: B018
    assert len(refused_events(action="factory_refused")) == 6
    assert tripwires() == []


# -- layer: transport alone ----------------------------------------------------------------


async def test_transport_alone_stops_binance_orders(sim, tripwires, no_factory_block, refused_events):
    sim.add_api_key("binance", "bkey", "bsecret", permissions={"enableSpotAndMarginTrading": True})
    client = await binance_market_client(
        rest_url=sim.binance_rest_url, ws_url=sim.binance_ws_url, api_key="bkey", api_secret="bsecret"
    )
    raw = _raw(client)
    before = violations_count("transport")
    try:
        with pytest.raises(RealTradingAttemptError, match="transport"):
            await raw.order_market_buy(symbol="BTCUSDT", quantity="0.01")
        with pytest.raises(RealTradingAttemptError):
            await raw.cancel_order(symbol="BTCUSDT", orderId=1)
        with pytest.raises(RealTradingAttemptError):
            await raw.withdraw(coin="BTC", address="x", amount="1")
        with pytest.raises(RealTradingAttemptError, match="signed request"):
            await raw.get_account()
        # the raw aiohttp session, even with the per-request middlewares switched off
        with pytest.raises(RealTradingAttemptError):
            await raw.session.post(f"{sim.binance_rest_url}/api/v3/order", data={"symbol": "BTCUSDT"})
        with pytest.raises(RealTradingAttemptError):
            await raw.session.post(f"{sim.binance_rest_url}/api/v3/order", middlewares=())
        with pytest.raises(RealTradingAttemptError):
            await raw.session.ws_connect(f"{sim.binance_ws_url}ws-api/v3")
        with pytest.raises(RealTradingAttemptError):
            await raw.ws_create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1")
        manager = client.socket_manager()
        with pytest.raises(RealTradingAttemptError):
            manager.user_socket()
        with pytest.raises(RealTradingAttemptError):
            manager._get_socket("x", stream_url="wss://ws-api.binance.com/")
    finally:
        await client.close()
    assert violations_count("transport") >= before + 9
    events = refused_events(action="transport_refused")
    assert len(events) >= 9
    assert all("signature=***" in e.data["url"] or "signature" not in e.data["url"] for e in events)
    assert tripwires() == []


def test_transport_alone_stops_kucoin_orders(sim, tripwires, no_factory_block, refused_events):
    sim.add_api_key("kucoin", "kkey", "ksecret", passphrase="kpass", permissions="General,Spot,Transfer")
    client = kucoin_market_client(
        rest_url=sim.kucoin_rest_url, api_key="kkey", api_secret="ksecret", passphrase="kpass"
    )
    signed = object.__getattribute__(client, "_signed")
    market = _raw(client)
    with pytest.raises(RealTradingAttemptError, match="order/trade"):
        signed._request("POST", "/api/v1/orders", params={"symbol": "BTC-USDT", "side": "buy", "size": "1"})
    with pytest.raises(RealTradingAttemptError):
        market._request("POST", "/api/v1/hf/orders", params={"symbol": "BTC-USDT"})
    with pytest.raises(RealTradingAttemptError):
        signed._request("DELETE", "/api/v1/orders/123")
    with pytest.raises(RealTradingAttemptError):
        signed._request("POST", "/api/v1/withdrawals", params={"currency": "BTC"})
    with pytest.raises(RealTradingAttemptError, match="signed request"):
        signed._request("GET", "/api/v1/accounts")
    with pytest.raises(RealTradingAttemptError):
        client.ws_token().get_ws_token(is_private=True)
    # the raw requests session and its adapter
    session = market.session
    with pytest.raises(RealTradingAttemptError):
        session.post(f"{sim.kucoin_rest_url}/api/v1/orders", json={"symbol": "BTC-USDT"})
    prepared = requests.Request("POST", f"{sim.kucoin_rest_url}/api/v1/orders", data="{}").prepare()
    with pytest.raises(RealTradingAttemptError):
        session.get_adapter(prepared.url).send(prepared)
    with pytest.raises(RealTradingAttemptError):
        session.mount("http://", requests.adapters.HTTPAdapter())
    with pytest.raises(RealTradingAttemptError):
        market.session = requests.Session()
    assert len(refused_events(action="transport_refused")) == 10
    assert tripwires() == []
