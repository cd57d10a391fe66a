"""Trailing stops and OCO lists through the API (issue 17)."""

from __future__ import annotations

import pytest

from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.services import portfolio_create
from tests.api.conftest import assert_error
from tests.api.factories import instrument_make, market_state_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_process_state(paper_state_clean):
    yield


@pytest.fixture
def portfolio(user, db):
    instrument_make()
    market_state_seed()  # mid 50000
    return portfolio_create(
        owner=user, name="main", starting_balances={"USDT": "100000", "BTC": "1"}, latency_ms=0, latency_jitter_ms=0
    )


def _oco(api, portfolio, **overrides):
    body = {
        "portfolio": portfolio.pk,
        "symbol": "BTCUSDT",
        "side": "sell",
        "quantity": "0.5",
        "above": {"type": "take_profit", "stop_price": "55000"},
        "below": {"type": "stop_loss", "stop_price": "45000"},
        **overrides,
    }
    return api.post("/api/v1/orders/oco/", body, format="json")


def test_trailing_stop_order(api, portfolio):
    body = {"portfolio": portfolio.pk, "symbol": "BTCUSDT", "side": "sell", "type": "trailing_stop"}
    created = api.post("/api/v1/orders/", {**body, "quantity": "0.1", "trailing_delta_bps": 150}, format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["type"], order["trailing_delta_bps"], order["trail_best"], order["status"]) == (
        "trailing_stop",
        150,
        "50000",
        "new",
    )
    assert order["order_list"] is None
    assert_error(api.post("/api/v1/orders/", {**body, "quantity": "0.1"}, format="json"), 422, "-1102")
    # Binance's TRAILING_DELTA range is in the schema (10-2000): outside it is a field error.
    assert_error(api.post("/api/v1/orders/", {**body, "quantity": "0.1", "trailing_delta_bps": 5}, format="json"), 400)


def test_oco_create_and_cancel_one_cancels_both(api, portfolio):
    created = _oco(api, portfolio, client_order_id="exit-7")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["contingency"] == "oco" and body["symbol"] == "BTCUSDT"
    take, stop = body["orders"]
    again = _oco(api, portfolio, client_order_id="exit-7")  # idempotent: the same list
    assert again.status_code == 200 and again.json()["order_list"] == body["order_list"]
    changed = _oco(api, portfolio, client_order_id="exit-7", quantity="0.4")
    assert_error(changed, 409, "duplicate_client_order_id")
    assert (take["type"], take["client_order_id"], stop["type"], stop["client_order_id"]) == (
        "take_profit",
        "exit-7-a",
        "stop_loss",
        "exit-7-b",
    )
    assert take["order_list"] == stop["order_list"] == body["order_list"]
    balances = {b["asset"]: b for b in api.get(f"/api/v1/portfolios/{portfolio.pk}/balances/").json()}
    assert (balances["BTC"]["free"], balances["BTC"]["locked"]) == ("0.5", "0.5")  # reserved once
    canceled = api.post(f"/api/v1/orders/{stop['id']}/cancel/", {}, format="json")
    assert canceled.status_code == 200, canceled.content
    assert api.get(f"/api/v1/orders/{take['id']}/").json()["status"] == "canceled"
    assert ledger_problems() == []


def test_oco_refusals(api, portfolio):
    wrong_side = _oco(api, portfolio, above={"type": "stop_loss", "stop_price": "55000"})
    assert_error(wrong_side, 422, "-1116")
    unknown = _oco(api, portfolio, below={"type": "stop_loss", "stop_price": "45000", "iceberg": "1"})
    assert_error(unknown, 400)
    too_big = _oco(api, portfolio, quantity="5")
    assert_error(too_big, 409)
    assert api.get("/api/v1/orders/?open=true").json()["count"] == 0
