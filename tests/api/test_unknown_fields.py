"""Every API write endpoint refuses a body field it does not declare: 400 naming the field,
nothing written (issue 18: `POST /portfolios/` with `real: true` used to answer 201).

The endpoints are found by walking the URL conf (tests/api/write_cases.py), so a new write
endpoint fails here until it has a case, and the case fails until its input refuses unknown
fields (apps/core/api_serializers.py: StrictFieldsMixin). Each case sends a body that is valid
except for the unknown field, so the 400 can only come from that field."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.portfolio.services import portfolio_create
from tests.api.conftest import assert_error
from tests.api.write_cases import CASES, World, client_for, world_make, write_endpoints

pytestmark = pytest.mark.django_db

UNKNOWN = {"colour": "red"}


@pytest.fixture
def world(user, paper_state_clean) -> World:
    return world_make(user)


def test_every_write_endpoint_has_a_case():
    endpoints = set(write_endpoints())
    missing = sorted(endpoints - set(CASES))
    assert not missing, f"new write endpoints: add a Case for each to CASES: {missing}"
    assert not sorted(set(CASES) - endpoints), "CASES names endpoints that no longer exist"


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.mark.parametrize(("name", "method"), write_endpoints())
def test_unknown_body_field_is_refused_and_nothing_is_written(world, name, method):
    case = CASES[(name, method)]
    client = client_for(world, case)
    before = row_counts()
    url = reverse(name, kwargs=case.kwargs(world))
    response = getattr(client, method)(url, {**case.body(world), **UNKNOWN}, format="json")
    err = assert_error(response, 400, "invalid")
    # Only the unknown field is wrong: the rest of the body is valid input for this endpoint.
    assert err["fields"] == {"colour": ["Unknown field."]}, err
    assert "colour" in err["message"]
    assert row_counts() == before


@pytest.mark.parametrize(("name", "method"), write_endpoints())
def test_the_case_body_alone_is_accepted(world, name, method):
    # Keeps the cases honest: without the unknown field, the same request succeeds.
    case = CASES[(name, method)]
    url = reverse(name, kwargs=case.kwargs(world))
    response = getattr(client_for(world, case), method)(url, case.body(world), format="json")
    assert response.status_code in (200, 201, 204), response.content[:500]


@pytest.mark.parametrize("extra", [{"mode": "live"}, {"real": True}])
def test_portfolio_create_with_the_issue_probe_is_refused(api, extra):
    # These used to be ignored and the portfolio created (201).
    response = api.post("/api/v1/portfolios/", {"name": "p", **extra}, format="json")
    if response.status_code == 403:  # the safety guard recognised a real-execution marker first
        assert_error(response, 403)
    else:
        assert assert_error(response, 400)["fields"] == {key: ["Unknown field."] for key in extra}
    assert not apps.get_model("portfolio", "Portfolio").objects.exists()


def test_every_unknown_field_is_named(api):
    err = assert_error(api.post("/api/v1/portfolios/", {"name": "p", "b": 1, "a": 2}, format="json"), 400)
    assert err["fields"] == {"a": ["Unknown field."], "b": ["Unknown field."]}


def test_unknown_fields_are_reported_with_the_other_errors(api):
    err = assert_error(api.post("/api/v1/portfolios/", {"latency_ms": -1, "colour": "red"}, format="json"), 400)
    assert set(err["fields"]) == {"name", "latency_ms", "colour"}


def test_an_output_only_field_is_unknown_on_input(api, user):
    portfolio = portfolio_create(owner=user, name="main")
    err = assert_error(api.patch(f"/api/v1/portfolios/{portfolio.pk}/", {"exchange": "kucoin"}, format="json"), 400)
    assert err["fields"] == {"exchange": ["Unknown field."]}


def test_the_schema_closes_every_request_body():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    bodies = {
        content["schema"]["$ref"].rsplit("/", 1)[1]
        for operations in schema["paths"].values()
        for operation in operations.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    }
    components = schema["components"]["schemas"]

    def closed(name: str) -> bool:
        component = components[name]
        if "oneOf" in component:  # one variant per strategy: each is closed
            return all(closed(v["$ref"].rsplit("/", 1)[1]) for v in component["oneOf"])
        return component.get("additionalProperties") is False

    assert bodies and all(closed(name) for name in bodies), [n for n in bodies if not closed(n)]
