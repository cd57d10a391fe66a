"""WebSocket API: auth (session cookie, JWT first frame), limits, heartbeats, errors and
per-object authorization (IDOR) for every topic."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client, override_settings
from rest_framework_simplejwt.tokens import AccessToken

from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True)]
ORIGIN = [(b"origin", b"http://testserver")]
TIMEOUT = 3


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    # Consumers query from the thread-sensitive executor; with CONN_MAX_AGE that thread keeps
    # its connection open, which would block dropping the test database.
    await sync_to_async(connections.close_all)()


@sync_to_async
def _make_user(name: str):
    return get_user_model().objects.create_user(username=name, password="pw-123456789")


@sync_to_async
def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@sync_to_async
def _portfolio(user, name="main"):
    from apps.portfolio.services import portfolio_create

    return portfolio_create(owner=user, name=name)


@sync_to_async
def _bot(user, portfolio):
    from apps.bots.models import Bot

    return Bot.objects.create(owner=user, portfolio=portfolio, name="b", symbol="BTCUSDT", strategy="sma_cross")


async def _connect(path="/ws/v1/stream/", headers=()):
    communicator = WebsocketCommunicator(application, path, headers=[*ORIGIN, *headers])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def _jwt_connect(user, path="/ws/v1/stream/"):
    communicator = await _connect(path)
    await communicator.send_json_to({"type": "auth", "token": str(AccessToken.for_user(user))})
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "authenticated"
    return communicator


async def test_session_cookie_auth_and_ping_pong():
    user = await _make_user("alice")
    communicator = await _connect(headers=[(b"cookie", await _session_cookie(user))])
    assert await communicator.receive_json_from(TIMEOUT) == {"type": "authenticated", "user": "alice"}
    await communicator.send_json_to({"type": "ping", "id": 7})
    pong = await communicator.receive_json_from(TIMEOUT)
    assert pong["type"] == "pong" and pong["id"] == 7
    await communicator.disconnect()


async def test_jwt_first_frame_auth():
    user = await _make_user("alice")
    communicator = await _jwt_connect(user)
    await communicator.send_json_to({"type": "subscriptions"})
    assert await communicator.receive_json_from(TIMEOUT) == {"type": "subscriptions", "subscriptions": []}
    await communicator.disconnect()


@pytest.mark.parametrize("token", ["garbage", "", None])
async def test_bad_token_gets_error_frame_and_close(token):
    communicator = await _connect()
    await communicator.send_json_to({"type": "auth", "token": token})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "invalid_token"
    assert (await communicator.receive_output(TIMEOUT)) == {"type": "websocket.close", "code": 4401}


async def test_tampered_token_rejected():
    user = await _make_user("alice")
    token = str(AccessToken.for_user(user))
    communicator = await _connect()
    await communicator.send_json_to({"type": "auth", "token": token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "invalid_token"


async def test_unauthenticated_cannot_subscribe():
    communicator = await _connect()
    await communicator.send_json_to(
        {"type": "subscribe", "topic": "market", "exchange": "binance", "symbol": "BTCUSDT"}
    )
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "not_authenticated"
    await communicator.disconnect()


@override_settings(WS_AUTH_TIMEOUT_SECONDS=0.2)
async def test_auth_deadline_closes_silent_connections():
    communicator = await _connect()
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "auth_timeout"
    assert (await communicator.receive_output(TIMEOUT))["code"] == 4401


async def test_bad_frames_get_error_frames():
    user = await _make_user("alice")
    communicator = await _jwt_connect(user)
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "bad_json"
    await communicator.send_json_to(["list"])
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "bad_frame"
    await communicator.send_json_to({"type": "dance"})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "unknown_type"
    await communicator.send_json_to({"type": "subscribe", "topic": "weather"})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "unknown_topic"
    await communicator.send_json_to({"type": "unsubscribe", "subscription": "nope"})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "not_subscribed"
    await communicator.disconnect()


@override_settings(WS_HEARTBEAT_SECONDS=0.2)
async def test_server_sends_heartbeat_pings():
    user = await _make_user("alice")
    communicator = await _jwt_connect(user)
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "ping"
    await communicator.disconnect()


@override_settings(WS_MAX_CONNECTIONS_PER_USER=2)
async def test_connection_limit_per_user():
    alice, bob = await _make_user("alice"), await _make_user("bob")
    first, second = await _jwt_connect(alice), await _jwt_connect(alice)
    third = await _connect()
    await third.send_json_to({"type": "auth", "token": str(AccessToken.for_user(alice))})
    assert (await third.receive_json_from(TIMEOUT))["error"]["code"] == "too_many_connections"
    assert (await third.receive_output(TIMEOUT))["code"] == 4429
    other = await _jwt_connect(bob)  # the limit is per user
    await first.disconnect()
    again = await _jwt_connect(alice)  # a slot was freed
    for communicator in (second, other, again):
        await communicator.disconnect()


async def test_market_subscribe_receive_filter_unsubscribe():
    user = await _make_user("alice")
    communicator = await _jwt_connect(user)
    await communicator.send_json_to(
        {"type": "subscribe", "id": 1, "topic": "market", "exchange": "binance", "symbol": "btcusdt", "timeframe": "5m"}
    )
    assert await communicator.receive_json_from(TIMEOUT) == {
        "type": "subscribed",
        "id": 1,
        "subscription": "market:binance:BTCUSDT:5m",
    }
    event = {
        "type": "market.update",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "ticker": {"last": "1.5"},
        "candles": {"1m": {"time": 1}, "5m": {"time": 2}},
        "closed": [{"timeframe": "1m"}, {"timeframe": "5m"}],
        "indicators": {"1m": {}, "5m": {"rsi": 50}},
    }
    await get_channel_layer().group_send("market.binance.BTCUSDT", event)
    frame = await communicator.receive_json_from(TIMEOUT)
    assert frame["type"] == "market.update" and frame["subscription"] == "market:binance:BTCUSDT:5m"
    assert frame["data"]["ticker"] == {"last": "1.5"}
    assert frame["data"]["candles"] == {"5m": {"time": 2}}
    assert frame["data"]["closed"] == [{"timeframe": "5m"}]
    await communicator.send_json_to({"type": "unsubscribe", "subscription": "market:binance:BTCUSDT:5m"})
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "unsubscribed"
    await get_channel_layer().group_send("market.binance.BTCUSDT", event)
    assert await communicator.receive_nothing(0.1)
    await communicator.disconnect()


@pytest.mark.parametrize(
    "params",
    [
        {"exchange": "ftx", "symbol": "BTCUSDT"},
        {"exchange": "binance", "symbol": "BTC/USDT"},
        {"exchange": "binance", "symbol": "BTCUSDT", "timeframe": "2m"},
    ],
)
async def test_market_subscribe_bad_params(params):
    user = await _make_user("alice")
    communicator = await _jwt_connect(user)
    await communicator.send_json_to({"type": "subscribe", "topic": "market", **params})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "invalid"
    await communicator.disconnect()


async def test_portfolio_topic_own_only():
    alice, mallory = await _make_user("alice"), await _make_user("mallory")
    mine = await _portfolio(alice)
    theirs = await _portfolio(mallory)
    communicator = await _jwt_connect(alice)
    for bad in (theirs.pk, 999999, "x"):
        await communicator.send_json_to({"type": "subscribe", "topic": "portfolio", "id": bad})
        assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] in ("not_found", "invalid")
    await communicator.send_json_to({"type": "subscribe", "topic": "portfolio", "id": mine.pk})
    assert (await communicator.receive_json_from(TIMEOUT))["subscription"] == f"portfolio:{mine.pk}"
    layer = get_channel_layer()
    await layer.group_send(f"portfolio.{theirs.pk}", {"type": "portfolio.update", "portfolio_id": theirs.pk})
    await layer.group_send(f"portfolio.{mine.pk}", {"type": "portfolio.update", "portfolio_id": mine.pk})
    frame = await communicator.receive_json_from(TIMEOUT)
    assert frame["data"]["portfolio_id"] == mine.pk
    assert await communicator.receive_nothing(0.1)
    await communicator.disconnect()


async def test_bot_topic_own_only():
    alice, mallory = await _make_user("alice"), await _make_user("mallory")
    mine = await _bot(alice, await _portfolio(alice))
    theirs = await _bot(mallory, await _portfolio(mallory))
    communicator = await _jwt_connect(alice)
    await communicator.send_json_to({"type": "subscribe", "topic": "bot", "id": theirs.pk})
    assert (await communicator.receive_json_from(TIMEOUT))["error"]["code"] == "not_found"
    await communicator.send_json_to({"type": "subscribe", "topic": "bot", "id": mine.pk})
    assert (await communicator.receive_json_from(TIMEOUT))["subscription"] == f"bot:{mine.pk}"
    await get_channel_layer().group_send(f"bot.{mine.pk}", {"type": "bot.event", "bot_id": mine.pk, "kind": "signal"})
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["kind"] == "signal"
    await communicator.disconnect()


async def test_page_routes_subscribe_from_url_and_refuse_others_objects():
    alice, mallory = await _make_user("alice"), await _make_user("mallory")
    cookie = [(b"cookie", await _session_cookie(alice))]
    mine, theirs = await _portfolio(alice), await _portfolio(mallory)
    theirs_bot = await _bot(mallory, theirs)

    page = await _connect(f"/ws/portfolio/{mine.pk}/", headers=cookie)
    assert (await page.receive_json_from(TIMEOUT))["type"] == "authenticated"
    assert (await page.receive_json_from(TIMEOUT))["subscription"] == f"portfolio:{mine.pk}"
    await page.disconnect()

    market = await _connect("/ws/market/kucoin/ETHUSDT/", headers=cookie)
    await market.receive_json_from(TIMEOUT)
    assert (await market.receive_json_from(TIMEOUT))["subscription"] == "market:kucoin:ETHUSDT"
    await market.disconnect()

    for path in (f"/ws/portfolio/{theirs.pk}/", f"/ws/bots/{theirs_bot.pk}/"):
        denied = await _connect(path, headers=cookie)
        await denied.receive_json_from(TIMEOUT)
        assert (await denied.receive_json_from(TIMEOUT))["error"]["code"] == "not_found"
        assert (await denied.receive_output(TIMEOUT))["code"] == 4404
