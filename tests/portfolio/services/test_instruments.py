"""Instrument rules for orders: read once, cached, refused for an unknown or halted symbol."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.market.models import Instrument
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.services.instruments import instrument_cache_clear, instrument_rules_get

pytestmark = pytest.mark.django_db


def test_the_rules_are_the_instruments_filters_and_are_cached(btc):
    rules = instrument_rules_get(exchange="binance", symbol="BTCUSDT")
    assert (rules.base_asset, rules.quote_asset) == ("BTC", "USDT")
    assert (rules.filters.step_size, rules.filters.tick_size) == (D("0.001"), D("0.01"))
    Instrument.objects.filter(pk=btc.pk).update(step_size=D("0.1"))
    assert instrument_rules_get(exchange="binance", symbol="BTCUSDT") is rules  # within the TTL
    instrument_cache_clear()
    assert instrument_rules_get(exchange="binance", symbol="BTCUSDT").filters.step_size == D("0.1")


def test_an_unknown_or_halted_symbol_is_refused_as_the_exchange_would(btc, kc_btc):
    with pytest.raises(OrderRejectedError) as binance:
        instrument_rules_get(exchange="binance", symbol="NOPEUSDT")
    assert binance.value.code == "-1121"
    Instrument.objects.filter(pk=kc_btc.pk).update(status="BREAK")
    with pytest.raises(OrderRejectedError) as kucoin:
        instrument_rules_get(exchange="kucoin", symbol="BTCUSDT")
    assert kucoin.value.code == "900001"
