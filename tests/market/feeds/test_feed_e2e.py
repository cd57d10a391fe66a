"""End-to-end: the real client libraries against the exchange simulator."""

from __future__ import annotations

import pytest

from apps.market import cache as market_cache

from .helpers import SYMBOLS, assert_candles_match, start_feed, wait_covered, wait_for, wait_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_stream_backfill_and_candles_equal_simulator(exchange_sim_factory, exchange):
    sim = exchange_sim_factory(seed=7, clock_speed=60.0, symbols=SYMBOLS)
    start_ms = sim.now_ms()
    runner = start_feed(sim, exchange)
    try:
        wait_messages(runner, 50)
        targets = wait_covered(runner, sim)
        assert runner.state == "simulated"
        assert market_cache.feed_status_get(exchange)["state"] == "simulated"
        assert wait_for(lambda: market_cache.book_get(exchange, "BTCUSDT") is not None, 3), runner._msg_counters
        assert market_cache.forming_candle_get(exchange, "BTCUSDT", "1m") is not None
        assert market_cache.recent_trades_get(exchange, "ETHUSDT", 5)
    finally:
        runner.stop()
    assert_candles_match(sim, exchange, SYMBOLS, targets, since_ms=start_ms)
