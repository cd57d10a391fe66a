"""IndicatorSeriesApi called through DRF (the route is mounted by the api owner)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIRequestFactory, force_authenticate

from apps.market.indicator_apis import IndicatorSeriesApi
from apps.market.indicators import Bar
from tests.market.indicators.helpers import ETH, store_bars

pytestmark = pytest.mark.django_db


def _get(query: dict[str, object], exchange: str = "binance", symbol: str = "ethbtc"):  # type: ignore[no-untyped-def]
    request = APIRequestFactory().get("/api/v1/markets/x/y/indicators/", query)
    force_authenticate(request, user=get_user_model().objects.create_user(username=f"u{len(str(query))}", password="x"))
    response = IndicatorSeriesApi.as_view()(request, exchange=exchange, symbol=symbol)
    response.render()
    return response.status_code, json.loads(response.content)


def test_series_with_nulls_during_warm_up(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars[ETH][:120]
    store_bars(bars)
    status, body = _get({"timeframe": "5m", "limit": 100, "start": "2018-01-01T00:00:00Z"})
    assert status == 200
    assert body["symbol"] == "ETHBTC" and body["lookbacks"]["macd"] == 33
    series = body["series"]
    assert [p["open_time_ms"] for p in series] == [b.open_time_ms for b in bars[:100]]
    assert series[0]["rsi"] is None and isinstance(series[14]["rsi"], float)
    assert series[32]["macd_hist"] is None and isinstance(series[33]["macd_hist"], float)


def test_custom_params_and_errors(candle_bars: dict[str, list[Bar]]) -> None:
    store_bars(candle_bars[ETH][:60])
    status, body = _get({"timeframe": "5m", "rsi_period": 5})
    assert status == 200 and body["params"]["rsi_period"] == 5 and body["series"][5]["rsi"] is not None
    assert _get({"timeframe": "7m"})[0] == 400
    assert _get({"rsi_period": 1})[0] == 400
    assert _get({"start": "2018-01-02T00:00:00Z", "end": "2018-01-01T00:00:00Z"})[0] == 422  # a rule between the two
    assert _get({}, exchange="nasdaq")[0] == 404
