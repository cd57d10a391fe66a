from __future__ import annotations

import pytest

from apps.portfolio.services import portfolio_create
from tests.api.conftest import assert_error
from tests.api.factories import instrument_make, market_state_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_process_state(paper_state_clean):
    yield


@pytest.fixture
def market(db):
    instrument_make()
    market_state_seed()


@pytest.fixture
def portfolio(user):
    return portfolio_create(
        owner=user, name="main", starting_balances={"USDT": "100000"}, latency_ms=0, latency_jitter_ms=0
    )


@pytest.fixture
def theirs(other_user):
    return portfolio_create(owner=other_user, name="theirs", latency_ms=0, latency_jitter_ms=0)


def _buy(api, portfolio, **extra):
    body = {
        "portfolio": portfolio.pk,
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "market",
        "quantity": "0.01",
        **extra,
    }
    return api.post("/api/v1/orders/", body, format="json")


def test_portfolio_create_list_retrieve(api):
    created = api.post("/api/v1/portfolios/", {"name": "swing", "starting_balances": {"USDT": "2500.5"}}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["starting_balances"] == {"USDT": "2500.5"} and body["maker_fee_rate"] == "0.001"
    listing = api.get("/api/v1/portfolios/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]
    assert api.get(f"/api/v1/portfolios/{body['id']}/").json()["name"] == "swing"
    balances = api.get(f"/api/v1/portfolios/{body['id']}/balances/").json()
    assert balances == [{"asset": "USDT", "free": "2500.5", "locked": "0", "total": "2500.5"}]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "name"),
        ({"name": "x", "exchange": "ftx"}, "exchange"),
        ({"name": "x", "starting_balances": {"USDT": "-1"}}, "starting_balances"),
        ({"name": "x", "maker_fee_rate": "0.5"}, "maker_fee_rate"),
        ({"name": "x", "maker_fee_rate": "0.11"}, "maker_fee_rate"),  # at most 0.1, in the pattern
        ({"name": "x", "max_slippage_bps": "10000.1"}, "max_slippage_bps"),
        ({"name": "x", "maker_fee_rate": "-0"}, "maker_fee_rate"),
        ({"name": "x", "latency_ms": -1}, "latency_ms"),
        ({"name": " \u3000"}, "name"),  # blank once trimmed
        ({"name": "a\u0000b"}, "name"),
    ],
)
def test_portfolio_create_bad_input(api, payload, field):
    err = assert_error(api.post("/api/v1/portfolios/", payload, format="json"), 400, "invalid")
    assert field in err["fields"]


def test_portfolio_create_bounds_are_inclusive(api):
    body = {"name": "edge", "maker_fee_rate": "0.1", "taker_fee_rate": "0.100", "max_slippage_bps": "10000.0"}
    created = api.post("/api/v1/portfolios/", body, format="json")
    assert created.status_code == 201, created.content


def test_portfolio_asset_names_are_a_documented_422(api):
    # OpenAPI 3.0 cannot constrain object keys, so this one field rule is a 422.
    body = {"name": "x", "starting_balances": {"US DT": "1"}}
    assert "starting_balances" in assert_error(api.post("/api/v1/portfolios/", body, format="json"), 422)["fields"]


def test_portfolio_duplicate_name_is_409(api, portfolio):
    err = assert_error(api.post("/api/v1/portfolios/", {"name": "main"}, format="json"), 409, "name_taken")
    assert "name" in err["fields"]


def test_portfolio_reset_needs_confirm(api, portfolio):
    assert_error(api.post(f"/api/v1/portfolios/{portfolio.pk}/reset/", {}, format="json"), 400, "invalid")
    assert_error(
        api.post(f"/api/v1/portfolios/{portfolio.pk}/reset/", {"confirm": False}, format="json"),
        400,
        "invalid",  # the schema says so: confirm is enum [true]
    )
    done = api.post(f"/api/v1/portfolios/{portfolio.pk}/reset/", {"confirm": True}, format="json")
    assert done.status_code == 200 and done.json()["reset_at"]


def test_order_fill_positions_metrics_equity_fills(api, portfolio, market):
    placed = _buy(api, portfolio, client_order_id="abc-1")
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["status"] == "filled" and order["type"] == "market" and order["portfolio"] == portfolio.pk

    assert api.get(f"/api/v1/orders/{order['id']}/").json()["id"] == order["id"]
    positions = api.get(f"/api/v1/portfolios/{portfolio.pk}/positions/").json()
    assert positions[0]["symbol"] == "BTCUSDT" and positions[0]["quantity"] == "0.00999"  # 0.1 % fee paid in BTC
    metrics = api.get(f"/api/v1/portfolios/{portfolio.pk}/metrics/").json()
    assert "equity" in metrics and metrics["trades"] == 0
    assert isinstance(api.get(f"/api/v1/portfolios/{portfolio.pk}/equity/").json(), list)
    fills = api.get(f"/api/v1/fills/?portfolio={portfolio.pk}").json()
    assert fills["count"] >= 1 and fills["results"][0]["order"] == order["id"]
    csv = api.get(f"/api/v1/fills/export/?portfolio={portfolio.pk}")
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv"
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,order_id") and len(lines) == 1 + fills["count"]


def test_client_order_id_idempotency_and_conflict(api, portfolio, market):
    first = _buy(api, portfolio, client_order_id="same")
    again = _buy(api, portfolio, client_order_id="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert_error(_buy(api, portfolio, client_order_id="same", quantity="0.02"), 409)


def test_limit_order_rest_and_cancel(api, portfolio, market):
    resting = _buy(api, portfolio, type="limit", price="40000")
    assert resting.status_code == 201, resting.content
    order_id = resting.json()["id"]
    assert resting.json()["status"] == "new"
    listing = api.get("/api/v1/orders/?open=true&ordering=-created_at").json()
    assert [o["id"] for o in listing["results"]] == [order_id]
    canceled = api.post(f"/api/v1/orders/{order_id}/cancel/")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    err = assert_error(api.post(f"/api/v1/orders/{order_id}/cancel/"), 409)  # its state: closed
    assert err["code"] == "-2011"  # Binance "Unknown order sent."
    assert api.get("/api/v1/orders/?status=canceled").json()["count"] == 1
    assert api.get("/api/v1/orders/?open=true").json()["count"] == 0


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"side": "hold"}, "side"),
        ({"type": "iceberg"}, "type"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"client_order_id": "x" * 65}, "client_order_id"),
        ({"time_in_force": "GTX"}, "time_in_force"),
    ],
)
def test_order_bad_input(api, portfolio, market, extra, field):
    err = assert_error(_buy(api, portfolio, **extra), 400, "invalid")
    assert field in err["fields"]


def test_order_exchange_rule_rejection_uses_exchange_code(api, portfolio, market):
    # The body matches the schema; the instrument's filters refuse it: 422, the exchange's code.
    err = assert_error(_buy(api, portfolio, quantity="0.000001"), 422)
    assert err["code"].startswith("-")  # Binance filter error code
    # The message is the exchange's own; the field states the rule in words with the code beside it.
    missing = assert_error(_buy(api, portfolio, type="limit"), 422, "-1102")
    assert missing["message"] == "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
    assert missing["fields"] == {"price": ["This order type needs a limit price above 0 (Binance -1102)"]}


def test_order_balance_shortfall_is_409(api, portfolio, market):
    assert_error(_buy(api, portfolio, quantity="100"), 409, "-2010")


@pytest.mark.parametrize("quantity", ["", "-", "-1", "0", "0.0", "1e3", "01", ".5", 1])
def test_order_money_outside_the_schema_is_400(api, portfolio, market, quantity):
    assert "quantity" in assert_error(_buy(api, portfolio, quantity=quantity), 400, "invalid")["fields"]


def test_order_unknown_symbol(api, portfolio, market):
    assert_error(_buy(api, portfolio, symbol="DOGEUSDT"), 422, "-1121")


def test_order_list_filters_and_bad_ordering(api, portfolio, market):
    _buy(api, portfolio)
    assert api.get("/api/v1/orders/?side=buy&symbol=btcusdt").json()["count"] == 1
    assert api.get("/api/v1/orders/?side=sell").json()["count"] == 0
    assert_error(api.get("/api/v1/orders/?ordering=password"), 400, "invalid")
    assert_error(api.get("/api/v1/orders/?status=lost"), 400, "invalid")
    assert_error(api.get("/api/v1/fills/?created_after=never"), 400, "invalid")


# IDOR: Mallory can neither see nor touch Alice's objects; the answer is 404 like "missing".


def test_idor_portfolio(api, other_api, portfolio):
    base = f"/api/v1/portfolios/{portfolio.pk}/"
    for suffix in ("", "balances/", "positions/", "metrics/", "equity/"):
        assert_error(other_api.get(base + suffix), 404)
    assert_error(other_api.post(base + "reset/", {"confirm": True}, format="json"), 404)
    assert other_api.get("/api/v1/portfolios/").json()["count"] == 0
    assert_error(other_api.get(f"/api/v1/fills/export/?portfolio={portfolio.pk}"), 404)


def test_idor_orders_and_fills(api, other_api, portfolio, market):
    order_id = _buy(api, portfolio, type="limit", price="40000").json()["id"]
    _buy(api, portfolio)
    assert_error(other_api.get(f"/api/v1/orders/{order_id}/"), 404)
    assert_error(other_api.post(f"/api/v1/orders/{order_id}/cancel/"), 404)
    assert other_api.get("/api/v1/orders/").json()["count"] == 0
    assert other_api.get(f"/api/v1/orders/?portfolio={portfolio.pk}").json()["count"] == 0
    assert other_api.get("/api/v1/fills/").json()["count"] == 0
    # Placing into someone else's portfolio.
    assert_error(_buy(other_api, portfolio), 404)
    assert api.get(f"/api/v1/orders/{order_id}/").json()["status"] == "new"


def test_huge_ids_are_404_not_500(api):
    assert_error(api.get("/api/v1/portfolios/99999999999999999999999/"), 404)
    assert_error(api.get("/api/v1/orders/999999999999999999/"), 404)
