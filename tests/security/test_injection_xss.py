"""Injection and XSS payloads in every free-text input: stored byte for byte, returned
as data by the API, rendered escaped by the pages, and never executed as SQL."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

XSS = [
    '<script>alert("pwn")</script>',
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "{{ 7*7 }}{% debug %}",
]
SQLI = [
    "'; DROP TABLE portfolio_portfolio; --",
    "' OR '1'='1",
    'x" UNION SELECT password FROM auth_user --',
]
PAYLOADS = XSS + SQLI
RAW_MARKERS = ["<script>alert", "<img src=x", "<svg/onload"]


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def _assert_escaped(html: str, payload: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped {marker!r} in page"
    if payload.startswith("{{"):
        assert "49" not in html.split("{{ 7*7 }}")[0][-5:], "template expression evaluated"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_portfolio_name_is_stored_exactly_and_rendered_escaped(alice, alice_api, client, payload):
    from apps.portfolio.models import Portfolio

    tables = _tables()
    response = alice_api.post("/api/v1/portfolios/", {"name": payload[:100]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == payload[:100]
    portfolio = Portfolio.objects.get(pk=response.json()["id"])
    assert portfolio.name == payload[:100]
    assert _tables() == tables
    client.force_login(alice)
    for url in ("/portfolios/", f"/portfolios/{portfolio.pk}/", "/settings/"):
        page = client.get(url)
        assert page.status_code == 200, url
        _assert_escaped(page.content.decode(), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_bot_name_is_stored_exactly_and_rendered_escaped(alice, alice_api, client, market, payload):
    from apps.bots.models import Bot

    portfolio = alice_api.post("/api/v1/portfolios/", {"name": "p"}, format="json").json()["id"]
    response = alice_api.post(
        "/api/v1/bots/",
        {"name": payload, "portfolio": portfolio, "symbol": "BTCUSDT", "strategy": "dca"},
        format="json",
    )
    assert response.status_code == 201, response.content
    bot = Bot.objects.get(pk=response.json()["id"])
    assert bot.name == payload
    client.force_login(alice)
    for url in ("/bots/", f"/bots/{bot.pk}/", f"/bots/{bot.pk}/edit/"):
        page = client.get(url)
        assert page.status_code == 200, url
        _assert_escaped(page.content.decode(), payload)


def test_page_form_inputs_are_escaped_too(alice, client):
    from apps.portfolio.models import Portfolio

    client.force_login(alice)
    payload = XSS[0]
    client.post("/portfolios/new/", {"name": payload, "exchange": "binance", "starting_quote": "1000"})
    assert Portfolio.objects.filter(owner=alice, name=payload).exists()
    _assert_escaped(client.get("/settings/").content.decode(), payload)
    _assert_escaped(client.get("/portfolios/").content.decode(), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_identifiers_and_filters_are_rejected_or_inert(alice_objects, alice, alice_api, client, payload):
    tables = _tables()
    # Identifier fields are validated, never interpolated.
    response = alice_api.post(
        "/api/v1/orders/",
        {"portfolio": alice_objects.portfolio.pk, "symbol": payload, "side": "buy", "type": "market",
         "quantity": "0.1", "client_order_id": payload},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400, response.content
    # Filters: a 400 or an empty/unchanged answer, never a 500 and never more rows.
    for url, params in [
        ("/api/v1/orders/", {"symbol": payload}),
        ("/api/v1/fills/", {"symbol": payload}),
        ("/api/v1/safety/audit-events/", {"action": payload[:64], "symbol": payload[:32]}),
        ("/api/v1/markets/instruments/", {"search": payload, "exchange": "binance"}),
    ]:
        response = alice_api.get(url, params)
        assert response.status_code in (200, 400), (url, response.status_code)
        if response.status_code == 200:
            body = response.json()
            rows = body["results"] if isinstance(body, dict) and "results" in body else body
            assert all(payload not in str(r.get("symbol", "")) for r in rows)
            if url != "/api/v1/markets/instruments/":
                assert rows == [], (url, rows)
    assert alice_api.get(f"/api/v1/markets/binance/{payload}/candles/").status_code in (400, 404)
    client.force_login(alice)
    page = client.get(f"/markets/binance/{payload}/")
    assert page.status_code in (400, 404)
    _assert_escaped(page.content.decode(), payload)
    assert _tables() == tables
