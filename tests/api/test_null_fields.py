"""A null for a field that is not nullable is a 400 naming the field, on every write
endpoint and inside JSON objects such as a bot's `params` (issue 18: `{"period": null}` was
taken as "use the default" and the bot created) — never a 500, never silently defaulted."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.bots.models import Backtest, Bot
from apps.portfolio.models import Portfolio
from tests.api.conftest import assert_error
from tests.api.test_unknown_fields import row_counts
from tests.api.write_cases import CASES, World, client_for, world_make, write_endpoints

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(user, paper_state_clean) -> World:
    return world_make(user)


@cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _body_properties(url: str, method: str) -> dict[str, Any]:
    """The documented request-body properties of ``method url`` (none without a body)."""
    schema = _schema()
    for template, operations in schema["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", template), url) and method in operations:
            body = operations[method].get("requestBody")
            if body is None:
                return {}
            ref = body["content"]["application/json"]["schema"]["$ref"]
            return schema["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {})
    raise AssertionError(f"{method.upper()} {url} is not in the schema")


def _nullable(prop: dict[str, Any]) -> bool:
    return prop.get("nullable") is True or any(
        option.get("$ref", "").endswith("/NullEnum") for option in prop.get("oneOf", [])
    )


@pytest.mark.parametrize(("name", "method"), write_endpoints())
def test_null_for_a_non_nullable_field_is_refused(world, name, method):
    case = CASES[(name, method)]
    url = reverse(name, kwargs=case.kwargs(world))
    client = client_for(world, case)
    wrong = {}
    for field, spec in _body_properties(url, method).items():
        if spec.get("readOnly") or _nullable(spec):
            continue
        before = row_counts()
        response = getattr(client, method)(url, {**case.body(world), field: None}, format="json")
        fields = assert_error(response, 400, "invalid")["fields"]
        if fields != {field: ["This field may not be null."]} or row_counts() != before:
            wrong[field] = fields
    assert not wrong, wrong


def test_a_nullable_field_takes_null(api, world):
    body = {**CASES[("api-orders", "post")].body(world), "quote_quantity": None, "stop_price": None}
    assert api.post("/api/v1/orders/", body, format="json").status_code == 201


def _bot_body(world: World, **changes: Any) -> dict[str, Any]:
    return {**CASES[("api-bots", "post")].body(world), **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"params": {"period": None}}, "params.period"),
        ({"params": {"period": 10, "oversold": None}}, "params.oversold"),
        ({"risk": {"order_size": None}}, "risk.order_size"),
        ({"risk": {"order_size_mode": None}}, "risk.order_size_mode"),
    ],
)
def test_null_inside_bot_params_is_refused(api, world, changes, field):
    bots = Bot.objects.count()
    err = assert_error(api.post("/api/v1/bots/", _bot_body(world, **changes), format="json"), 400, "invalid")
    assert err["fields"] == {field: ["This field may not be null."]}, err
    assert Bot.objects.count() == bots


def test_null_inside_bot_params_is_refused_on_update(api, world):
    url = f"/api/v1/bots/{world.bot.pk}/"
    # 422: the PATCH schema's params is one free-form object for every strategy, so a value
    # that does not fit the bot's strategy is a rule the schema cannot state (api_schema.py).
    err = assert_error(api.patch(url, {"params": {"period": None}}, format="json"), 422, "invalid")
    assert err["fields"] == {"params.period": ["This field may not be null."]}, err
    world.bot.refresh_from_db()
    assert world.bot.params["period"] == 14


def test_null_inside_backtest_params_is_refused(api, world):
    body = {"strategy": "dca", "symbol": "ETHUSDT", "params": {"max_buys": None}}
    err = assert_error(api.post("/api/v1/backtests/", body, format="json"), 400, "invalid")
    assert err["fields"] == {"params.max_buys": ["This field may not be null."]}, err
    assert not Backtest.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "p", "starting_balances": {"USDT": None}}, "starting_balances"),
        ({"name": "p", "starting_balances": None}, "starting_balances"),
    ],
)
def test_null_inside_starting_balances_is_refused(api, body, field):
    assert field in assert_error(api.post("/api/v1/portfolios/", body, format="json"), 400, "invalid")["fields"]
    assert not Portfolio.objects.filter(name="p").exists()


def test_null_in_a_list_is_refused(api):
    body = {"email_enabled": False, "kinds": [None]}
    assert "kinds" in assert_error(api.put("/api/v1/alerts/preferences/", body, format="json"), 400)["fields"]
