"""Each injected fault on its own: the feed recovers, and stored candles still equal the
simulator's klines with no gap and no duplicate."""

from __future__ import annotations

import time

import pytest

from apps.market import metrics
from apps.market.feeds.supervisor import FeedSupervisor

from .helpers import SYMBOLS, assert_candles_match, feed_config, start_feed, wait_covered, wait_for, wait_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _run_with_fault(exchange_sim_factory, exchange, inject, *, recover_timeout=15.0):
    sim = exchange_sim_factory(seed=11, clock_speed=60.0, symbols=SYMBOLS)
    start_ms = sim.now_ms()
    runner = start_feed(sim, exchange)
    try:
        wait_messages(runner, 20)
        inject(sim)
        wait_messages(runner, 100, timeout=recover_timeout)
        targets = wait_covered(runner, sim, timeout=recover_timeout)
    finally:
        runner.stop()
    assert_candles_match(sim, exchange, SYMBOLS, targets, since_ms=start_ms)
    return runner


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_dropped_connection_reconnects_and_backfills_the_gap(exchange_sim_factory, exchange):
    runner = _run_with_fault(exchange_sim_factory, exchange, lambda sim: sim.faults.drop_connections(exchange))
    assert runner.reconnects >= 1


def test_stalled_stream_is_detected_and_reconnected(exchange_sim_factory):
    # 3 s of silence (3 simulated minutes at 60x) is longer than the 2 s stall timeout.
    runner = _run_with_fault(exchange_sim_factory, "binance", lambda sim: sim.faults.stall("binance", 3.0))
    assert runner.reconnects >= 1


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_malformed_frame_does_not_lose_candles(exchange_sim_factory, exchange):
    _run_with_fault(exchange_sim_factory, exchange, lambda sim: sim.faults.malformed_frame(exchange))


def test_rest_429_is_retried_after_retry_after(exchange_sim_factory):
    before = metrics.rate_limited.labels("binance")._value.get()

    def inject(sim):
        sim.faults.rate_limit("binance", status=429, retry_after=1, count=2)
        time.sleep(1.5)  # the next gap fills hit the 429s

    runner = _run_with_fault(exchange_sim_factory, "binance", inject)
    assert metrics.rate_limited.labels("binance")._value.get() >= before + 1
    assert runner.adapter.pacer.blocked_until > 0


def test_binance_server_shutdown_reconnects(exchange_sim_factory):
    runner = _run_with_fault(exchange_sim_factory, "binance", lambda sim: sim.faults.binance_server_shutdown())
    assert runner.reconnects >= 1


def test_kucoin_error_message_keeps_streaming(exchange_sim_factory):
    _run_with_fault(exchange_sim_factory, "kucoin", lambda sim: sim.faults.kucoin_error("internal error"))


def test_dead_feed_is_restarted_with_fresh_data_within_10s(exchange_sim_factory):
    sim = exchange_sim_factory(seed=5, clock_speed=60.0, symbols=SYMBOLS)
    supervisor = FeedSupervisor([feed_config(sim, "binance")], stale_s=2.0, check_s=0.5).start()
    try:
        first = supervisor.runners["binance"]
        assert wait_for(lambda: first.hub.messages > 20, 15)
        first.kill()
        died = time.monotonic()
        assert wait_for(lambda: supervisor.runners["binance"] is not first, 5)
        fresh = supervisor.runners["binance"]
        assert wait_for(lambda: fresh.hub.messages > 20 and fresh.state == "simulated", 10 - (time.monotonic() - died))
        assert time.monotonic() - died < 10
        assert supervisor.restarts == 1
    finally:
        supervisor.stop()
