"""Authorization bypass attempts on every object type, over HTTP (API and pages) and
WebSocket: another user's objects are invisible (404, never 403, so ids are not
confirmed), unlistable, and unmodifiable."""

from __future__ import annotations

import contextlib
import json

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application

from .conftest import access_token

pytestmark = pytest.mark.django_db(transaction=True)


def _ids(body) -> set[int]:
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["id"] for row in rows}


READS = [
    "/api/v1/portfolios/{portfolio}/",
    "/api/v1/portfolios/{portfolio}/balances/",
    "/api/v1/portfolios/{portfolio}/positions/",
    "/api/v1/portfolios/{portfolio}/metrics/",
    "/api/v1/portfolios/{portfolio}/equity/",
    "/api/v1/orders/{order}/",
    "/api/v1/bots/{bot}/",
    "/api/v1/bots/{bot}/events/",
    "/api/v1/bots/{bot}/backtests/",
    "/api/v1/backtests/{backtest}/",
]
WRITES = [
    ("post", "/api/v1/portfolios/{portfolio}/reset/", {}),
    ("patch", "/api/v1/portfolios/{portfolio}/", {"name": "pwned"}),
    ("delete", "/api/v1/portfolios/{portfolio}/", None),
    ("post", "/api/v1/orders/{order}/cancel/", {}),
    ("patch", "/api/v1/bots/{bot}/", {"name": "pwned"}),
    ("post", "/api/v1/bots/{bot}/start/", {}),
    ("post", "/api/v1/bots/{bot}/stop/", {}),
    ("delete", "/api/v1/bots/{bot}/", None),
    ("post", "/api/v1/bots/{bot}/backtests/", {}),
]
PAGES = [
    "/portfolios/{portfolio}/",
    "/portfolios/{portfolio}/holdings/",
    "/portfolios/{portfolio}/orders/",
    "/portfolios/{portfolio}/fills/",
    "/portfolios/{portfolio}/export/fills.csv",
    "/bots/{bot}/",
    "/bots/{bot}/edit/",
    "/bots/{bot}/performance/",
    "/backtests/{backtest}/",
]


def _fmt(path: str, objs) -> str:
    return path.format(portfolio=objs.portfolio.pk, order=objs.order.pk, bot=objs.bot.pk, backtest=objs.backtest.pk)


@pytest.mark.parametrize("path", READS)
def test_reading_another_users_object_is_a_404(alice_objects, alice_api, mallory_api, path):
    url = _fmt(path, alice_objects)
    assert alice_api.get(url).status_code == 200, url  # the owner can
    response = mallory_api.get(url)
    assert response.status_code == 404, (url, response.status_code)
    assert "alice" not in response.content.decode()


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_modifying_another_users_object_is_a_404_and_changes_nothing(alice_objects, mallory_api, method, path, body):
    from apps.bots.models import Bot
    from apps.portfolio.models import Order, Portfolio

    url = _fmt(path, alice_objects)
    response = getattr(mallory_api, method)(url, body, format="json")
    assert response.status_code in (404, 405), (url, response.status_code)
    assert Portfolio.objects.get(pk=alice_objects.portfolio.pk).name == "alice-main"
    assert Bot.objects.get(pk=alice_objects.bot.pk).name == "alice-bot"
    assert Order.objects.get(pk=alice_objects.order.pk).status == alice_objects.order.status


def test_lists_never_include_another_users_objects(alice_objects, mallory_api):
    for url, own in [
        ("/api/v1/portfolios/", alice_objects.portfolio.pk),
        ("/api/v1/orders/", alice_objects.order.pk),
        ("/api/v1/fills/", alice_objects.fill.pk),
        ("/api/v1/bots/", alice_objects.bot.pk),
        ("/api/v1/backtests/", alice_objects.backtest.pk),
        ("/api/v1/safety/audit-events/", alice_objects.audit.pk),
    ]:
        response = mallory_api.get(url)
        assert response.status_code == 200, url
        assert own not in _ids(response.json()), url
    # Filtering by Alice's portfolio id does not open it up either.
    response = mallory_api.get(f"/api/v1/orders/?portfolio={alice_objects.portfolio.pk}")
    assert response.status_code in (200, 400, 404)
    if response.status_code == 200:
        assert _ids(response.json()) == set()
    response = mallory_api.get(f"/api/v1/fills/?portfolio={alice_objects.portfolio.pk}")
    assert response.status_code != 200 or _ids(response.json()) == set()


def test_placing_an_order_in_another_users_portfolio_is_refused(alice_objects, mallory_api):
    from apps.portfolio.models import Order

    before = Order.objects.count()
    response = mallory_api.post(
        "/api/v1/orders/",
        {"portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "side": "buy", "type": "market",
         "quantity": "0.1"},
        format="json",
    )  # fmt: skip
    assert response.status_code in (400, 404), response.content
    assert Order.objects.count() == before


def test_creating_a_bot_on_another_users_portfolio_is_refused(alice_objects, mallory_api):
    response = mallory_api.post(
        "/api/v1/bots/",
        {"name": "x", "portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "strategy": "dca"},
        format="json",
    )
    assert response.status_code in (400, 404), response.content


@pytest.mark.parametrize("path", PAGES)
def test_pages_of_another_users_objects_are_404(alice_objects, alice, mallory, client, path):
    url = _fmt(path, alice_objects)
    client.force_login(alice)
    assert client.get(url).status_code == 200, url
    client.force_login(mallory)
    assert client.get(url).status_code == 404, url


def test_anonymous_gets_nothing(alice_objects, client):
    from rest_framework.test import APIClient

    anon = APIClient()
    for path in READS:
        assert anon.get(_fmt(path, alice_objects)).status_code == 401
    assert client.get(_fmt(PAGES[0], alice_objects)).status_code in (302, 401, 403)


async def _ws(path: str, token: str) -> list[dict]:
    communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data=json.dumps({"type": "auth", "token": token}))
    frames = []
    try:
        while True:
            output = await communicator.receive_output(timeout=2)
            if output["type"] == "websocket.close":
                frames.append({"type": "close", "code": output.get("code")})
                break
            frames.append(json.loads(output["text"]))
    except TimeoutError:
        pass
    with contextlib.suppress(BaseException):  # the server may have closed already
        await communicator.disconnect()
    return frames


@pytest.mark.parametrize("kind", ["portfolio", "bots"])
async def test_websocket_streams_of_another_users_objects_are_refused(alice_objects, mallory, alice, kind):
    from channels.db import database_sync_to_async

    target = alice_objects.portfolio.pk if kind == "portfolio" else alice_objects.bot.pk
    token_m = await database_sync_to_async(access_token)(mallory)
    frames = await _ws(f"/ws/{kind}/{target}/", token_m)
    assert any(f.get("type") == "close" and f.get("code") == 4404 for f in frames), frames
    assert not any(f.get("type") == "subscribed" for f in frames), frames
    token_a = await database_sync_to_async(access_token)(alice)
    frames = await _ws(f"/ws/{kind}/{target}/", token_a)
    assert any(f.get("type") == "subscribed" for f in frames), frames


async def test_websocket_api_subscribe_to_another_users_portfolio_is_not_found(alice_objects, mallory):
    from channels.db import database_sync_to_async

    token = await database_sync_to_async(access_token)(mallory)
    communicator = WebsocketCommunicator(application, "/ws/v1/stream/", headers=[(b"origin", b"http://localhost")])
    assert (await communicator.connect())[0]
    await communicator.send_json_to({"type": "auth", "token": token})
    assert (await communicator.receive_json_from(timeout=2))["type"] == "authenticated"
    for topic, key in (("portfolio", "portfolio"), ("bot", "bot")):
        target = alice_objects.portfolio.pk if topic == "portfolio" else alice_objects.bot.pk
        await communicator.send_json_to({"type": "subscribe", "topic": topic, key: target, "id": 7})
        reply = await communicator.receive_json_from(timeout=2)
        assert reply["type"] == "error" and reply["error"]["code"] == "not_found", reply
    await communicator.disconnect()
