from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from apps.market.cache import cache_key, cache_write_many
from apps.market.events import TradeEvent
from tests.api.conftest import assert_error
from tests.api.factories import candles_make, instrument_make, market_state_seed

pytestmark = pytest.mark.django_db


def test_exchanges(api):
    assert api.get("/api/v1/markets/exchanges/").json() == [
        {"code": "binance", "name": "Binance"},
        {"code": "kucoin", "name": "KuCoin"},
    ]


def test_instruments_paginated_and_filtered(api):
    instrument_make("binance", "BTCUSDT")
    instrument_make("binance", "ETHUSDT")
    instrument_make("kucoin", "BTCUSDT")
    body = api.get("/api/v1/markets/instruments/?exchange=binance&page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    assert body["results"][0]["tick_size"] == "0.01"  # Decimal as string
    assert api.get("/api/v1/markets/instruments/?search=eth").json()["count"] == 1
    assert_error(api.get("/api/v1/markets/instruments/?exchange=ftx"), 400, "invalid")
    assert_error(api.get("/api/v1/markets/instruments/?page=99"), 404)


def test_candles_range_and_latest(api):
    candles_make(count=10)
    latest = api.get("/api/v1/markets/binance/BTCUSDT/candles/?timeframe=1m&limit=3").json()
    assert [c["open"] for c in latest] == ["107", "108", "109"]
    ranged = api.get(
        "/api/v1/markets/binance/btcusdt/candles/",
        {"start": "2026-01-01T00:02:00Z", "end": "2026-01-01T00:04:00Z"},
    ).json()
    assert [c["open_time"] for c in ranged] == [
        "2026-01-01T00:02:00Z",
        "2026-01-01T00:03:00Z",
        "2026-01-01T00:04:00Z",
    ]
    assert api.get("/api/v1/markets/binance/BTCUSDT/candles/?timeframe=1h").json() == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("timeframe=2m", "timeframe"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("start=yesterday", "start"),
    ],
)
def test_candles_bad_query(api, query, field):
    err = assert_error(api.get(f"/api/v1/markets/binance/BTCUSDT/candles/?{query}"), 400, "invalid")
    assert field in err["fields"]


def test_candles_end_before_start_is_422(api):
    # Each bound is valid alone; the schema cannot relate them.
    query = "start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z"
    err = assert_error(api.get(f"/api/v1/markets/binance/BTCUSDT/candles/?{query}"), 422, "invalid")
    assert "end" in err["fields"]


def test_unknown_exchange_is_404(api):
    assert_error(api.get("/api/v1/markets/ftx/BTCUSDT/candles/"), 404, "not_found")


def test_ticker_book_trades_from_live_cache(api):
    instrument_make()
    assert_error(api.get("/api/v1/markets/binance/BTCUSDT/ticker/"), 404, "not_found")
    assert_error(api.get("/api/v1/markets/binance/BTCUSDT/book/"), 404, "not_found")
    market_state_seed()
    ticker = api.get("/api/v1/markets/binance/BTCUSDT/ticker/").json()
    assert ticker["last"] == "50000" and ticker["symbol"] == "BTCUSDT"
    book = api.get("/api/v1/markets/binance/BTCUSDT/book/").json()
    assert book["bids"][0] == ["49999.5", "5"]
    assert api.get("/api/v1/markets/binance/BTCUSDT/trades/").json() == []
    assert_error(api.get("/api/v1/markets/binance/BTCUSDT/trades/?limit=51"), 400)
    tickers = api.get("/api/v1/markets/tickers/?exchange=binance").json()
    assert [t["symbol"] for t in tickers] == ["BTCUSDT"]


def test_market_endpoints_need_auth(anon):
    for url in ("/api/v1/markets/exchanges/", "/api/v1/markets/binance/BTCUSDT/candles/"):
        assert_error(anon.get(url), 401)


def test_method_not_allowed_uniform(api):
    assert_error(api.post("/api/v1/markets/exchanges/", {}), 405, "method_not_allowed")


def test_indicators_mounted(api):
    candles_make(count=40)
    body = api.get("/api/v1/markets/binance/BTCUSDT/indicators/?timeframe=1m&limit=40").json()
    assert body["symbol"] == "BTCUSDT" and len(body["series"]) == 40
    assert_error(api.get("/api/v1/markets/binance/BTCUSDT/indicators/?rsi_period=1"), 400)
    assert_error(api.get("/api/v1/markets/ftx/BTCUSDT/indicators/"), 404)


def _trade(n: int) -> TradeEvent:
    return TradeEvent("binance", "BTCUSDT", str(n), Decimal("100") + n, Decimal("1"), "buy", 60_000 + n)


@override_settings(MARKET_RECENT_TRADES=7)
def test_trades_api_serves_at_most_market_recent_trades(api):
    instrument_make()
    cache_write_many({cache_key("binance", "BTCUSDT", "trades"): [_trade(n) for n in range(10)]})
    default = api.get("/api/v1/markets/binance/BTCUSDT/trades/").json()
    assert [t["trade_id"] for t in default] == ["9", "8", "7", "6", "5", "4", "3"]
    assert len(api.get("/api/v1/markets/binance/BTCUSDT/trades/?limit=3").json()) == 3
    assert_error(api.get("/api/v1/markets/binance/BTCUSDT/trades/?limit=8"), 400)
