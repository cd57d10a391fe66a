"""The dashboard's watchlist shows each price to its instrument's tick (and carries the tick
for the live updates, which static/js/format.js formats the same way)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from apps.market.cache import cache_invalidate, cache_key, cache_write_many
from apps.market.events import TickerEvent
from tests.factories import instrument_make

D = Decimal
pytestmark = pytest.mark.django_db


@override_settings(MARKET_SYMBOLS=["BTCUSDT"])
def test_watchlist_price_follows_the_tick(client):
    instrument_make(tick_size=D("0.10000000"))
    ticker = TickerEvent(exchange="binance", symbol="BTCUSDT", last=D("8475.5196022675"), open=D("8400"),
                         high=D("8500"), low=D("8300"), volume=D("12"), quote_volume=D("100000"),
                         change_pct=D("-0.0712"), ts_ms=1)  # fmt: skip
    cache_write_many({cache_key("binance", "BTCUSDT", "ticker"): ticker})
    try:
        html = client.get("/").content.decode()
    finally:
        cache_invalidate("binance", ["BTCUSDT"])
    assert 'data-tick="0.1">8,475.5</td>' in html
    assert ">-0.07%<" in html
