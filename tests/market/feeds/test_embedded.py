"""MARKET_SOURCE=auto on an offline machine: the simulator starts in-process, feeds say so."""

from __future__ import annotations

import pytest

from apps.core.banner import banner_state
from apps.market import cache as market_cache
from apps.market.feeds.embedded import exchanges_reachable, market_mode_get, market_start

from .helpers import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_auto_falls_back_to_the_simulator_when_exchanges_are_unreachable(settings):
    settings.BINANCE_REST_URL = "http://127.0.0.1:9"
    settings.BINANCE_WS_URL = "ws://127.0.0.1:9/"
    settings.KUCOIN_REST_URL = "http://127.0.0.1:9"
    settings.MARKET_BACKFILL_CANDLES = 3
    settings.MARKET_PROBE_TIMEOUT_S = 1
    assert not exchanges_reachable(timeout=1)
    handle = market_start("auto", symbols=["BTCUSDT"])
    try:
        assert handle.source == "simulated" and handle.simulator is not None
        assert market_mode_get() == "simulated" and banner_state().market_mode == "simulated"
        for exchange in ("binance", "kucoin"):
            assert wait_for(lambda ex=exchange: market_cache.feed_status_get(ex)["state"] == "simulated", 15), exchange
            assert wait_for(lambda ex=exchange: market_cache.backfill_progress_get(ex)["state"] == "done", 15)
    finally:
        handle.stop()
    assert market_mode_get() == "unknown"
