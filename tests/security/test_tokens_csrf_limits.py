"""Token tampering (HTTP and WebSocket), CSRF on session-authenticated writes, and rate
limits: order placement is throttled like every API call, WebSocket connections per user
are capped, login attempts lock out."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from config.asgi import application

from .conftest import PASSWORD, access_token

pytestmark = pytest.mark.django_db(transaction=True)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _tampered_tokens(alice, mallory) -> dict[str, str]:
    good = access_token(mallory)
    header, payload, signature = good.split(".")
    claims = _unb64(payload)
    swapped = {**claims, "user_id": str(alice.pk)}  # escalate to Alice, keep Mallory's signature
    expired = AccessToken.for_user(alice)
    expired.set_exp(lifetime=-timedelta(minutes=1))
    return {
        "payload swapped": f"{header}.{_b64(swapped)}.{signature}",
        "signature stripped": f"{header}.{payload}.",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(swapped)}.",
        "foreign key": jwt.encode(swapped, "not-our-secret-" * 4, algorithm="HS256"),
        "expired": str(expired),
        "refresh as access": str(RefreshToken.for_user(alice)),
        "garbage": "a.b.c",
    }


def test_tampered_tokens_are_rejected_over_http(alice, mallory, market):
    for name, token in _tampered_tokens(alice, mallory).items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.get("/api/v1/portfolios/")
        assert response.status_code == 401, (name, response.status_code)
        response = client.post(
            "/api/v1/orders/",
            {"portfolio": 1, "symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "1"},
            format="json",
        )
        assert response.status_code == 401, name


async def test_tampered_tokens_are_rejected_over_websocket(alice, mallory):
    from channels.db import database_sync_to_async

    tokens = await database_sync_to_async(_tampered_tokens)(alice, mallory)
    for name, token in tokens.items():
        communicator = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"http://localhost")])
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"type": "auth", "token": token})
        reply = await communicator.receive_json_from(timeout=2)
        assert reply["type"] == "error" and reply["error"]["code"] == "invalid_token", (name, reply)
        closed = await communicator.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4401}, (name, closed)


async def test_websocket_without_auth_cannot_subscribe():
    communicator = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"http://localhost")])
    assert (await communicator.connect())[0]
    await communicator.send_json_to(
        {"type": "subscribe", "topic": "market", "exchange": "binance", "symbol": "BTCUSDT"}
    )
    reply = await communicator.receive_json_from(timeout=2)
    assert reply["error"]["code"] == "not_authenticated"
    await communicator.disconnect()


async def test_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"https://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


def _session_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_session_writes_without_csrf_token_are_refused(alice_objects, alice):
    from apps.portfolio.models import Order

    client = _session_client(alice)
    before = Order.objects.count()
    order = {"portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "side": "buy", "type": "market",
             "quantity": "0.1"}  # fmt: skip
    response = client.post("/api/v1/orders/", json.dumps(order), content_type="application/json")
    assert response.status_code == 403
    response = client.post(f"/api/v1/bots/{alice_objects.bot.pk}/start/", "{}", content_type="application/json")
    assert response.status_code == 403
    response = client.post(
        "/markets/binance/BTCUSDT/ticket/",
        {"portfolio": alice_objects.portfolio.pk, "side": "buy", "type": "market", "quantity": "0.1"},
    )
    assert response.status_code == 403
    response = client.post(f"/portfolios/{alice_objects.portfolio.pk}/reset/", {})
    assert response.status_code == 403
    assert Order.objects.count() == before


def test_csrf_token_from_another_session_does_not_work(alice_objects, alice, mallory):
    mallory_client = _session_client(mallory)
    mallory_client.get("/portfolios/")
    stolen = mallory_client.cookies[settings.CSRF_COOKIE_NAME].value
    client = _session_client(alice)
    response = client.post(
        f"/api/v1/bots/{alice_objects.bot.pk}/start/", "{}", content_type="application/json", HTTP_X_CSRFTOKEN=stolen
    )
    assert response.status_code == 403


def test_order_placement_is_rate_limited_per_user(alice_objects, alice_api, mallory_api):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    from apps.portfolio.models import Order

    order = {"portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "side": "buy", "type": "market",
             "quantity": "0.1"}  # fmt: skip
    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    try:
        before = Order.objects.count()
        codes = [alice_api.post("/api/v1/orders/", order, format="json").status_code for _ in range(5)]
        other = mallory_api.get("/api/v1/portfolios/").status_code
    finally:
        UserRateThrottle.THROTTLE_RATES = original
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429], codes
    assert Order.objects.count() == before + 3  # throttled requests placed nothing
    assert other == 200


async def test_websocket_connections_per_user_are_capped(alice, settings):
    from channels.db import database_sync_to_async

    settings.WS_MAX_CONNECTIONS_PER_USER = 2
    token = await database_sync_to_async(access_token)(alice)
    open_ = []
    for _ in range(2):
        communicator = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"http://localhost")])
        assert (await communicator.connect())[0]
        await communicator.send_json_to({"type": "auth", "token": token})
        assert (await communicator.receive_json_from(timeout=2))["type"] == "authenticated"
        open_.append(communicator)
    extra = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"http://localhost")])
    assert (await extra.connect())[0]
    await extra.send_json_to({"type": "auth", "token": token})
    reply = await extra.receive_json_from(timeout=2)
    assert reply["error"]["code"] == "too_many_connections"
    assert (await extra.receive_output(timeout=2)) == {"type": "websocket.close", "code": 4429}
    for communicator in open_:
        await communicator.disconnect()


def test_login_lockout_stops_password_guessing(alice):
    client = APIClient()
    codes = [
        client.post("/api/v1/auth/token/", {"username": "alice", "password": f"guess-{i}"}, format="json").status_code
        for i in range(12)
    ]
    assert codes[0] == 401 and (429 in codes or 403 in codes), codes
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code in (403, 429), "locked out even with the right password"
