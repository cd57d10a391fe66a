"""Query parameters are validated as the schema documents them: an undeclared name, a repeated
one, an empty, invalid or out-of-range value is a 400, never silently "not given" or ignored."""

from __future__ import annotations

from functools import cache

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.portfolio.services import portfolio_create
from tests.api.api_routes import api_routes
from tests.api.conftest import assert_error
from tests.api.factories import candles_make
from tests.api.write_cases import world_make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["symbol=", "category=", "category=bogus", "since=", "result=maybe", "action="])
def test_audit_event_filters_are_strict(api, query):
    err = assert_error(api.get(f"/api/v1/safety/audit-events/?{query}"), 400, "invalid")
    assert query.split("=")[0] in err["fields"]


def test_audit_event_filters_still_filter(api):
    assert api.get("/api/v1/safety/audit-events/?category=config").status_code == 200


@pytest.mark.parametrize("query", ["limit=", "timeframe=", "rsi_period=", "bb_nbdev=", "start="])
def test_indicator_query_is_strict(api, query):
    url = f"/api/v1/markets/binance/BTCUSDT/indicators/?{query}"
    err = assert_error(api.get(url), 400, "invalid")
    assert query.split("=")[0] in err["fields"]


def test_indicator_query_valid(api):
    candles_make(count=30)
    body = api.get("/api/v1/markets/binance/BTCUSDT/indicators/?timeframe=1m&limit=30&sma_period=5").json()
    assert len(body["series"]) == 30 and body["series"][-1]["sma"] is not None


# Every API operation: a parameter it does not declare is refused (issue 18: `?limit=-1` and
# `?limit=100000000` on endpoints without `limit` answered 200). The routes come from the URL
# conf, so a new endpoint is covered without a case of its own.

PATH_SAMPLES = {"pk": 1, "exchange": "binance", "symbol": "BTCUSDT"}


def _read_routes() -> list[tuple[str, dict]]:
    routes = [r for r in api_routes() if r.route.lstrip("^").startswith("api/v1/") and r.methods(("get",))]
    return [(r.name, {name: PATH_SAMPLES[name] for name in r.kwargs}) for r in routes]


@pytest.mark.parametrize(("name", "kwargs"), _read_routes())
def test_an_undeclared_query_parameter_is_refused_everywhere(api, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    err = assert_error(api.get(url + "?colour=red&limit=-1"), 400, "invalid")
    assert err["fields"]["colour"] == ["Unknown query parameter."]
    assert "colour" in err["message"] or "limit" in err["message"]


@pytest.mark.parametrize("url", ["/api/v1/portfolios/", "/api/v1/bots/", "/api/v1/safety/audit-events/"])
@pytest.mark.parametrize("limit", ["-1", "100000000"])
def test_the_issue_probe_limit_is_refused(api, url, limit):
    err = assert_error(api.get(f"{url}?limit={limit}"), 400, "invalid")
    assert err["fields"] == {"limit": ["Unknown query parameter."]}


def test_a_query_parameter_given_twice_is_refused(api):
    err = assert_error(api.get("/api/v1/orders/?side=buy&side=sell"), 400, "invalid")
    assert err["fields"] == {"side": ["Given more than once."]}


def test_writes_take_no_query_parameters(api):
    err = assert_error(api.post("/api/v1/portfolios/?colour=red", {"name": "p"}, format="json"), 400, "invalid")
    assert err["fields"] == {"colour": ["Unknown query parameter."]}
    assert api.post("/api/v1/portfolios/", {"name": "p"}, format="json").status_code == 201


def test_declared_parameters_still_work(api, user):
    portfolio = portfolio_create(owner=user, name="main")
    assert api.get("/api/v1/portfolios/?page=1&page_size=10").status_code == 200
    assert api.get("/api/v1/orders/?ordering=-created_at&open=true").status_code == 200
    assert api.get(f"/api/v1/fills/export/?portfolio={portfolio.pk}&format=csv").status_code == 200
    assert api.head(f"/api/v1/portfolios/{portfolio.pk}/equity/?limit=5").status_code == 200


def test_the_schema_keeps_its_format_parameter(anon):
    # /api/schema/ is not an operation of the API: DRF's ?format=json still picks the renderer.
    assert anon.get("/api/schema/?format=json").status_code == 200


def test_an_unauthenticated_request_is_a_401_with_only_declared_parameters(anon):
    assert_error(anon.get("/api/v1/portfolios/?page=1"), 401)


@pytest.mark.parametrize("page", ["0", "-1", "last", "x", "1.5", "١"])
def test_a_page_that_cannot_exist_is_a_400(api, user, page):
    portfolio_create(owner=user, name="main")
    err = assert_error(api.get(f"/api/v1/portfolios/?page={page}"), 400, "invalid")
    assert set(err["fields"]) == {"page"}


def test_a_page_past_the_end_is_a_404(api):
    assert_error(api.get("/api/v1/portfolios/?page=99"), 404)


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _bounded_parameters() -> list[tuple[str, str, str]]:
    """(path, parameter, value) just outside every documented integer range of a query."""
    cases = []
    for path, operations in _schema()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] != "query" or schema.get("type") != "integer":
                continue
            if "minimum" in schema:
                cases.append((path, parameter["name"], str(schema["minimum"] - 1)))
            if "maximum" in schema:
                cases.append((path, parameter["name"], str(schema["maximum"] + 1)))
                cases.append((path, parameter["name"], str(10**30)))
    return cases


@pytest.mark.parametrize(("path", "name", "value"), _bounded_parameters())
def test_an_out_of_range_query_parameter_is_a_400(api, user, paper_state_clean, path, name, value):
    world = world_make(user)
    ids = {"portfolios": world.portfolio.pk, "bots": world.bot.pk, "orders": world.order.pk}
    resource = path.split("/")[3]
    url = path.format(id=ids.get(resource, 1), exchange="binance", symbol="BTCUSDT")
    err = assert_error(api.get(f"{url}?{name}={value}"), 400, "invalid")
    assert set(err["fields"]) == {name}, err
