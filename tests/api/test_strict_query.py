"""Query parameters are validated as the schema documents them: an empty or invalid value is
a 400, never silently "not given" (safety audit events, indicator series)."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error
from tests.api.factories import candles_make

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
