"""Issue 18, finding 4: five real-execution markers passed the order guard and placed paper
orders. Over HTTP, through every door the guard covers (API order, page ticket, admin form,
bot configuration, query string) and through the order service itself, each of them and
their look-alike spellings is now refused with 403, audited, and places nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.bots.models import Bot
from apps.portfolio.models import Order
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db

ISSUE_MARKERS = [
    {"mode": ["live"]},
    {"mode": "lıve"},  # dotless ı
    {"testnet": False},
    {"simulate": False},
    {"account": "main"},
]
LOOKALIKES = [
    {"mоde": "live"},  # Cyrillic о in the key
    {"mode": "ｌｉｖｅ"},
    {"mode": "li\u200bve"},
    {"ｔｅｓｔｎｅｔ": "0"},
    {"sіmulate": 0},
    {"meta": {"testnet": "false"}},
    {"legs": [{"аccount": "main"}]},
]
MARKERS = ISSUE_MARKERS + LOOKALIKES
IDS = [json.dumps(marker, ensure_ascii=False) for marker in MARKERS]


def _order(portfolio_id: int, **extra) -> dict:
    return {"portfolio": portfolio_id, "symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "0.1", **extra}


def _form(marker: dict) -> dict:
    """The marker as a form body: scalars as text, lists as repeated fields."""
    form = {}
    for key, value in marker.items():
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            form[key] = value
        elif isinstance(value, bool):
            form[key] = str(value).lower()
        elif isinstance(value, dict | list):
            continue  # not expressible as a flat form field
        else:
            form[key] = str(value)
    return form


class _Watch:
    """What a request changed: orders, bots, refused audit events."""

    def __init__(self) -> None:
        self.orders = Order.objects.count()
        self.bots = Bot.objects.count()
        self.last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def refusals(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(id__gt=self.last_event, result=AuditEvent.Result.REFUSED))

    def assert_refused_and_nothing_placed(self, *, action: str, layer: str) -> None:
        assert Order.objects.count() == self.orders
        assert Bot.objects.count() == self.bots
        refusals = self.refusals()
        assert len(refusals) == 1, refusals
        event = refusals[0]
        assert (event.category, event.action, event.data["layer"]) == ("trade_attempt", action, layer)


def _assert_403(response) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "real_trading_refused"


@pytest.mark.parametrize("marker", MARKERS, ids=IDS)
def test_api_order_with_a_real_execution_marker_is_refused(alice_objects, alice_api, alice, marker):
    watch = _Watch()
    response = alice_api.post("/api/v1/orders/", _order(alice_objects.portfolio.pk, **marker), format="json")
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_http", layer="middleware")
    assert watch.refusals()[0].actor == alice


@pytest.mark.parametrize("marker", ISSUE_MARKERS, ids=IDS[: len(ISSUE_MARKERS)])
def test_api_order_marker_in_the_query_string_is_refused(alice_objects, alice_api, marker):
    (key, value), = marker.items()  # fmt: skip
    query = "&".join(f"{key}={item}" for item in (value if isinstance(value, list) else [value]))
    watch = _Watch()
    response = alice_api.post(f"/api/v1/orders/?{query}", _order(alice_objects.portfolio.pk), format="json")
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_http", layer="middleware")


FLAT = [(marker, ident) for marker, ident in zip(MARKERS, IDS, strict=True) if _form(marker)]


@pytest.mark.parametrize("marker", [marker for marker, _ in FLAT], ids=[ident for _, ident in FLAT])
def test_page_ticket_with_a_real_execution_marker_is_refused(alice_objects, alice, marker):
    """Form bodies: every marker with a flat form spelling (the nested ones have none)."""
    form = _form(marker)
    client = Client()
    client.force_login(alice)
    watch = _Watch()
    response = client.post(
        "/markets/binance/BTCUSDT/ticket/",
        {"portfolio": alice_objects.portfolio.pk, "side": "buy", "type": "market", "quantity": "0.1", **form},
    )
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_page", layer="middleware")


@pytest.mark.parametrize("where", ["params", "risk", "top"])
@pytest.mark.parametrize("marker", ISSUE_MARKERS, ids=IDS[: len(ISSUE_MARKERS)])
def test_bot_configuration_with_a_real_execution_marker_is_refused(alice_objects, alice_api, marker, where):
    body = {"name": "sneaky", "portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "strategy": "dca",
            "params": {"interval_candles": 1}, "risk": {"order_size": "50"}}  # fmt: skip
    if where == "top":
        body.update(marker)
    else:
        body[where] = {**body[where], **marker}
    watch = _Watch()
    response = alice_api.post("/api/v1/bots/", body, format="json")
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_http", layer="middleware")
    # ... and cannot be edited into one either.
    bot = alice_objects.bot
    watch = _Watch()
    patch = dict(marker) if where == "top" else {where: body[where]}
    response = alice_api.patch(f"/api/v1/bots/{bot.pk}/", patch, format="json")
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_http", layer="middleware")


@pytest.mark.parametrize("marker", ISSUE_MARKERS, ids=IDS[: len(ISSUE_MARKERS)])
def test_admin_order_form_with_a_real_execution_marker_is_refused(alice_objects, marker):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789-x")
    client = Client()
    client.force_login(admin)
    watch = _Watch()
    response = client.post(
        "/admin/portfolio/order/add/",
        {"portfolio": alice_objects.portfolio.pk, "symbol": "BTCUSDT", "side": "buy", "order_type": "market",
         "quantity": "0.1", **_form(marker)},
    )  # fmt: skip
    _assert_403(response)
    watch.assert_refused_and_nothing_placed(action="trade_refused_admin", layer="middleware")


@pytest.mark.parametrize("marker", MARKERS, ids=IDS)
def test_order_service_refuses_a_real_execution_marker(alice_objects, alice, marker):
    """Bots and scripts call the service, not HTTP: the guard there refuses the same."""
    from apps.portfolio.services import order_place

    watch = _Watch()
    with pytest.raises(RealTradingAttemptError) as caught:
        order_place(
            portfolio=alice_objects.portfolio, actor=alice, symbol="BTCUSDT", side="buy", order_type="market",
            quantity="0.1", source="bot", extra=marker,
        )  # fmt: skip
    assert caught.value.status == 403
    watch.assert_refused_and_nothing_placed(action="trade_refused_bot", layer="paper_guard")


def test_the_same_order_without_a_marker_is_placed(alice_objects, alice_api):
    """The refusals above are the markers', not the order's."""
    watch = _Watch()
    response = alice_api.post("/api/v1/orders/", _order(alice_objects.portfolio.pk), format="json")
    assert response.status_code == 201, response.content
    assert Order.objects.count() == watch.orders + 1
    assert watch.refusals() == []
