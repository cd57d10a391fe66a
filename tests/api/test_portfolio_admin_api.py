"""PATCH and DELETE /api/v1/portfolios/<id>/: settings changes, refusals, audit, IDOR."""

from __future__ import annotations

import pytest

from apps.bots.services import bot_create, bot_start
from apps.portfolio import books
from apps.portfolio.liquidity import liquidity_store
from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services import order_place, portfolio_create
from apps.portfolio.services.instruments import instrument_cache_clear
from apps.safety.models import AuditEvent
from tests.api.conftest import assert_error
from tests.api.factories import instrument_make, market_state_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_process_state():
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()
    yield
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()


@pytest.fixture
def portfolio(user):
    return portfolio_create(owner=user, name="main", latency_ms=0, latency_jitter_ms=0)


def _url(portfolio: Portfolio) -> str:
    return f"/api/v1/portfolios/{portfolio.pk}/"


def test_patch_changes_settings_and_audits(api, portfolio):
    response = api.patch(
        _url(portfolio),
        {"name": " swing ", "taker_fee_rate": "0.00075", "latency_ms": 120, "queue_position_model": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["taker_fee_rate"], body["latency_ms"]) == ("swing", "0.00075", 120)
    assert body["queue_position_model"] is True and body["maker_fee_rate"] == "0.001"  # untouched
    event = AuditEvent.objects.get(action="portfolio.update")
    assert event.portfolio_id == portfolio.pk and event.actor_label == "alice"
    assert event.data["changes"]["latency_ms"] == {"from": "0", "to": "120"}
    # Nothing changed: no second audit record.
    assert api.patch(_url(portfolio), {"latency_ms": 120}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="portfolio.update").count() == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"starting_balances": {"USDT": "1"}}, "starting_balances"),
        ({"exchange": "kucoin"}, "exchange"),
        ({"maker_fee_rate": "0.5"}, "maker_fee_rate"),
        ({"maker_fee_rate": 0.001}, "maker_fee_rate"),  # money never as a JSON number
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": "5"}, "latency_ms"),
        ({"fee_discount": "yes"}, "fee_discount"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_patch_bad_input(api, portfolio, payload, field):
    err = assert_error(api.patch(_url(portfolio), payload, format="json"), 400, "invalid")
    assert field in err["fields"], err


def test_patch_duplicate_name(api, user, portfolio):
    portfolio_create(owner=user, name="other")
    err = assert_error(api.patch(_url(portfolio), {"name": "other"}, format="json"), 409, "name_taken")
    assert "name" in err["fields"]


def test_delete_removes_everything_and_audits(api, portfolio):
    assert api.delete(_url(portfolio)).status_code == 204
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()
    assert AuditEvent.objects.filter(action="portfolio.delete", portfolio_id=portfolio.pk).count() == 1
    assert_error(api.get(_url(portfolio)), 404)
    assert_error(api.delete(_url(portfolio)), 404)


def test_delete_refused_while_bot_runs(api, user, portfolio):
    bot = bot_create(owner=user, portfolio=portfolio, name="b", symbol="BTCUSDT", strategy="rsi_mean_reversion")
    bot_start(bot=bot, actor=user)
    assert_error(api.delete(_url(portfolio)), 409, "portfolio_has_running_bots")
    assert Portfolio.objects.filter(pk=portfolio.pk).exists()
    api.post(f"/api/v1/bots/{bot.pk}/stop/")
    assert api.delete(_url(portfolio)).status_code == 204  # a stopped bot goes with it


def test_delete_refused_with_open_order(api, user, portfolio):
    instrument_make()
    market_state_seed()
    order = order_place(
        portfolio=portfolio,
        actor=user,
        symbol="BTCUSDT",
        side="buy",
        order_type="limit",
        quantity="0.01",
        price="40000",
    )
    assert order.status == Order.Status.NEW
    assert_error(api.delete(_url(portfolio)), 409, "portfolio_has_open_orders")
    assert api.post(f"/api/v1/orders/{order.pk}/cancel/").status_code == 200
    assert api.delete(_url(portfolio)).status_code == 204


def test_idor_patch_and_delete(other_api, portfolio):
    assert_error(other_api.patch(_url(portfolio), {"name": "pwned"}, format="json"), 404)
    assert_error(other_api.delete(_url(portfolio)), 404)
    portfolio.refresh_from_db()
    assert portfolio.name == "main"


def test_anonymous_refused(anon, portfolio):
    assert_error(anon.patch(_url(portfolio), {"name": "x"}, format="json"), 401)
    assert_error(anon.delete(_url(portfolio)), 401)
