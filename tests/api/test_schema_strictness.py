"""The OpenAPI schema states what the validators accept: the money pattern is the money
validator, text patterns match DRF's trimming, and every refusal a schema-valid request can
get (409, 422) is documented on its operation. tests/api/test_schemathesis.py checks the
same end to end with generated requests."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.core.api_schema import NON_BLANK_TEXT_PATTERN, WHITESPACE_CLASS
from apps.core.api_serializers import MoneyInputField, money_pattern

D = Decimal


def _ecma(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)  # the patterns use only syntax ECMA 262 and Python share


def test_whitespace_class_is_what_str_strip_removes():
    assert "".join(f"\\u{c:04x}" for c in range(0x110000) if chr(c).isspace()) == WHITESPACE_CLASS
    non_blank = _ecma(NON_BLANK_TEXT_PATTERN)
    for text in (" ", "\u3000\t", "\x1f", "a\x00"):
        assert not non_blank.search(text), repr(text)
    assert non_blank.search(" a ")


@pytest.mark.parametrize("max_value", [None, D("0.1"), D("0.01"), D("1"), D("100"), D("10000")])
def test_money_pattern_is_exactly_the_range(max_value):
    pattern = _ecma(money_pattern(signed=False, max_value=max_value))
    values = ["0", "0.0", "0.1", "0.10", "0.11", "0.01", "0.011", "0.0099", "1", "1.0", "1.01", "99.99"]
    values += ["100", "100.000", "100.001", "9999.5", "10000", "10000.0", "10000.01", "123456789012345678"]
    for value in values:
        assert bool(pattern.search(value)) == (max_value is None or D(value) <= max_value), (max_value, value)
    for value in ["", "-", ".", "-1", "-0", "01", ".5", "5.", "1e3", " 1", "1 ", "0.1234567890123456789"]:
        assert not pattern.search(value), (max_value, value)


def test_money_field_minimum_above_zero_is_in_the_schema():
    field = MoneyInputField(min_value=D("0.00000001"), numbers=True)
    below = _ecma(field.below.pattern)
    for value, refused in [("0", True), ("0.000000009", True), ("0.00000001", False), ("0.1", False), ("2", False)]:
        assert bool(below.search(value)) == refused, value
        assert bool(below.search(value)) == (D(value) < D("0.00000001"))


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(
    "method, path, codes",
    [
        ("post", "/api/v1/bots/{id}/pause/", {"409"}),
        ("post", "/api/v1/bots/{id}/start/", {"409"}),
        ("post", "/api/v1/bots/{id}/stop/", {"409"}),
        ("post", "/api/v1/bots/", {"409", "422"}),
        ("patch", "/api/v1/bots/{id}/", {"409", "422"}),
        ("post", "/api/v1/orders/", {"409", "422"}),
        ("post", "/api/v1/orders/{id}/cancel/", {"409"}),
        ("post", "/api/v1/portfolios/", {"409", "422"}),
        ("post", "/api/v1/alerts/preferences/secret/", {"409"}),
        ("put", "/api/v1/alerts/preferences/", {"422"}),
        ("get", "/api/v1/markets/{exchange}/{symbol}/candles/", {"422"}),
        ("post", "/api/v1/backtests/", {"422"}),
    ],
)
def test_refusals_of_schema_valid_requests_are_documented(schema, method, path, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_strategy_is_an_enum_with_one_request_variant_each(schema):
    from apps.bots.strategies.registry import strategy_names

    components = schema["components"]["schemas"]
    body = schema["paths"]["/api/v1/bots/"]["post"]["requestBody"]
    assert body["required"] is True
    variants = components["BotCreateInputRequest"]["oneOf"]
    assert len(variants) == len(strategy_names())
    grid = components["BotCreateGridInputRequest"]["properties"]
    assert grid["strategy"]["pattern"] == "^grid$"
    params = components["GridParamsRequest"]
    assert params["additionalProperties"] is False and set(params["properties"]) == {"lower", "upper", "levels"}
