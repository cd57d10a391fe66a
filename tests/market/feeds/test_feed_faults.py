"""Each injected fault on its own: the feed recovers, and stored candles still equal the
simulator's klines with no gap and no duplicate."""

from __future__ import annotations

import time

import pytest

from apps.market import metrics
from apps.market.feeds.supervisor import FeedSupervisor

from .helpers import SYMBOLS, assert_candles_match, feed_config, start_feed, wait_covered, wait_for, wait_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _run_with_fault(exchange_sim_factory, exchange, inject, *, recover_timeout=15.0, **overrides):
    sim = exchange_sim_factory(seed=11, clock_speed=60.0, symbols=SYMBOLS)
    start_ms = sim.now_ms()
    runner = start_feed(sim, exchange, **overrides)
    try:
        wait_messages(runner, 20)
        inject(sim, runner)
        wait_messages(runner, 100, timeout=recover_timeout)
        targets = wait_covered(runner, sim, timeout=recover_timeout)
    finally:
        runner.stop()
    assert_candles_match(sim, exchange, SYMBOLS, targets, since_ms=start_ms)
    return runner


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_dropped_connection_reconnects_and_backfills_the_gap(exchange_sim_factory, exchange):
    runner = _run_with_fault(exchange_sim_factory, exchange, lambda sim, _runner: sim.faults.drop_connections(exchange))
    assert runner.reconnects >= 1


def test_stalled_stream_is_detected_and_reconnected(exchange_sim_factory):
    # 3 s of silence (3 simulated minutes at 60x) is longer than the 2 s stall timeout.
    runner = _run_with_fault(exchange_sim_factory, "binance", lambda sim, _runner: sim.faults.stall("binance", 3.0))
    assert runner.reconnects >= 1


@pytest.mark.parametrize("exchange", ["binance", "kucoin"])
def test_malformed_frame_does_not_lose_candles(exchange_sim_factory, exchange):
    _run_with_fault(exchange_sim_factory, exchange, lambda sim, _runner: sim.faults.malformed_frame(exchange))


def test_rest_429_is_retried_after_retry_after(exchange_sim_factory):
    before = metrics.rate_limited.labels("binance")._value.get()

    def inject(sim, _runner):
        sim.faults.rate_limit("binance", status=429, retry_after=1, count=2)
        time.sleep(1.5)  # the next gap fills hit the 429s

    runner = _run_with_fault(exchange_sim_factory, "binance", inject)
    assert metrics.rate_limited.labels("binance")._value.get() >= before + 1
    assert runner.adapter.pacer.blocked_until > 0


def test_kucoin_rest_429_waits_for_its_reset_header_and_refills_the_gap(exchange_sim_factory):
    before = metrics.rate_limited.labels("kucoin")._value.get()
    seen: dict[str, object] = {}

    def inject(sim, _runner):
        seen["sim"] = sim
        sim.faults.rate_limit("kucoin", status=429, retry_after=2, count=2)
        assert wait_for(lambda: sum(h.status == 429 for h in sim.rest_hits("kucoin")) == 2, 10)

    runner = _run_with_fault(exchange_sim_factory, "kucoin", inject)
    assert metrics.rate_limited.labels("kucoin")._value.get() >= before + 2
    hits = seen["sim"].rest_hits("kucoin")  # type: ignore[attr-defined]
    for limited in (h for h in hits if h.status == 429):
        # Calls already in flight when the 429 came back may land at once; every later one
        # waits for the reset KuCoin announced (gw-ratelimit-reset, 2000 ms here).
        later = [h.wall_s for h in hits if h.wall_s > limited.wall_s + 0.25]
        assert later and min(later) >= limited.wall_s + 2.0, (limited, later[:3])
    assert runner.adapter.pacer.blocked_until > 0


def test_binance_queue_overflow_reconnects_without_gap_or_dupe(exchange_sim_factory):
    def stall_consumer(sim, runner):
        # The feed's loop is blocked (a long GC pause, a slow handler) while the simulator keeps
        # sending; once it runs again python-binance reads the backlog faster than we consume
        # it, its 20-message queue overflows and its read loop dies (ReadLoopClosed).
        runner.loop.call_soon_threadsafe(time.sleep, 1.5)
        assert wait_for(lambda: runner.adapter.dead_read_loops >= 1, 10), "the queue did not overflow"

    runner = _run_with_fault(exchange_sim_factory, "binance", stall_consumer, queue_size=20)
    assert runner.reconnects >= 1


def test_binance_server_shutdown_reconnects(exchange_sim_factory):
    runner = _run_with_fault(exchange_sim_factory, "binance", lambda sim, _runner: sim.faults.binance_server_shutdown())
    assert runner.reconnects >= 1


def test_kucoin_error_message_keeps_streaming(exchange_sim_factory):
    _run_with_fault(exchange_sim_factory, "kucoin", lambda sim, _runner: sim.faults.kucoin_error("internal error"))


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
