"""Feed faults end to end: kill -9 of the feeds process, a Redis restart under it, a stalled
and a flooding simulator. Each time the feed recovers by itself, the stored candles equal
the simulator's own (no hole, no duplicate) and the right alert was raised: by the
watchdog for the feed, by the monitor process for Redis (and resolved when it was back)."""

from __future__ import annotations

import secrets
import time

import pytest

from apps.market.cache import feed_status_get
from apps.market.feeds.symbols import TIMEFRAMES
from apps.market.models import Candle
from apps.market.selectors import candle_last_open_map
from apps.ops.health import DOWN
from apps.ops.probes import cache_probe, feed_probe_factory
from apps.ops.watchdog import feed_watch
from tests.market.conftest import exchange_sim_factory  # noqa: F401 - fixture
from tests.market.feeds.helpers import assert_candles_match, last_closed, start_feed, wait_covered, wait_messages
from tests.processes import process_stop

from .conftest import feeds_env, redis_cache_settings, spawn_feeds, spawn_monitor, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SYMBOLS = ["BTCUSDT", "ETHUSDT"]
# Ceilings of condition waits (each returns as soon as its condition holds), sized for a
# machine running other suites beside this one.
CATCH_UP, STATE_CHANGE = 120, 60


@pytest.fixture
def watch_settings(settings):
    settings.ALERT_FEED_DOWN_SECONDS = 1
    settings.HEALTH_FEED_EXCHANGES = ["binance"]
    # No heartbeat for 9 s (3 x this): the feeds process is gone. Shorter windows read a
    # live feed as dead on a loaded machine (load 6-14), where a heartbeat can run late.
    settings.MARKET_FEED_STALE_S = 3
    return settings


def _covered(sim) -> bool:
    have = candle_last_open_map(exchange="binance", symbols=SYMBOLS)
    return all(have.get((s, tf), -1) >= last_closed(sim, tf) for s in SYMBOLS for tf in TIMEFRAMES)


def _watch_until_alert(status_source=None) -> list[str]:
    """The watchdog's two runs: the first notes the outage, the second (past the threshold) alerts."""
    feed_watch(now=time.time(), status_source=status_source)
    return feed_watch(now=time.time() + 2, status_source=status_source)


def _no_duplicates() -> None:
    rows = list(Candle.objects.filter(exchange="binance").values_list("symbol", "timeframe", "open_time"))
    assert len(rows) == len(set(rows))


@pytest.mark.postgres
def test_kill_9_of_feeds_process_alerts_and_a_restart_fills_the_gap(
    exchange_sim_factory,  # noqa: F811
    private_redis,
    alert_outbox,
    watch_settings,
    tmp_path,
):
    sim = exchange_sim_factory(seed=5, clock_speed=60.0, symbols=SYMBOLS)
    prefix = f"res-{secrets.token_hex(4)}"
    env = feeds_env(sim=sim, redis_url=private_redis.url, prefix=prefix)
    first = spawn_feeds(env, SYMBOLS, tmp_path / "feeds.log")
    second = None
    try:
        with redis_cache_settings(private_redis.url, prefix):
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3), (tmp_path / "feeds.log").read_text()[-3000:]
            # Compared from here, not from before the process started: its start-up backfills
            # MARKET_BACKFILL_CANDLES, and a slow start (a loaded machine) would otherwise
            # leave the first simulated minutes outside every window the feeds ever saw.
            start_ms = sim.now_ms()
            assert feed_watch() == []  # streaming: no alert
            first.kill()
            first.wait(30)
            assert wait_for(lambda: feed_status_get("binance")["state"] == "down", STATE_CHANGE)
            assert _watch_until_alert() == ["binance"]
            assert [n.kind for n in alert_outbox("feed_down")] == ["feed_down"]

            second = spawn_feeds(env, SYMBOLS, tmp_path / "feeds.log")
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3), "restarted feeds never caught up"
            assert wait_for(lambda: feed_watch() == [], STATE_CHANGE)  # recovered: the outage is cleared
            targets = {tf: last_closed(sim, tf) for tf in TIMEFRAMES}
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                process_stop(proc)
    assert_candles_match(sim, "binance", SYMBOLS, targets, since_ms=start_ms)
    _no_duplicates()
    assert len(alert_outbox("feed_down")) == 1  # de-duplicated: one outage, one alert


@pytest.mark.postgres
def test_redis_restart_under_the_feeds_process_recovers_on_its_own(
    exchange_sim_factory,  # noqa: F811
    private_redis,
    alert_outbox,
    webhook_sink,
    watch_settings,
    tmp_path,
):
    sim = exchange_sim_factory(seed=6, clock_speed=60.0, symbols=SYMBOLS)
    prefix = f"res-{secrets.token_hex(4)}"
    env = feeds_env(sim=sim, redis_url=private_redis.url, prefix=prefix)
    monitor_log = tmp_path / "monitor.log"
    monitor = spawn_monitor(env, webhook_url=webhook_sink.url, log=monitor_log)
    feeds = spawn_feeds(env, SYMBOLS, tmp_path / "f.log")
    try:
        with redis_cache_settings(private_redis.url, prefix):
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3), (tmp_path / "f.log").read_text()[-3000:]
            # Compared from here, not from before the process started: its start-up backfills
            # MARKET_BACKFILL_CANDLES, and a slow start (a loaded machine) would otherwise
            # leave the first simulated minutes outside every window the feeds ever saw.
            start_ms = sim.now_ms()
            monitoring = wait_for(lambda: "monitoring postgres, redis" in monitor_log.read_text(), STATE_CHANGE)
            assert monitoring, monitor_log.read_text()
            assert webhook_sink.received == []  # everything up: no alert
            private_redis.stop()
            # While Redis is gone the readiness probe says so (what ops sees and alerts on).
            with pytest.raises(Exception):  # noqa: B017 - any client error is "down"
                cache_probe()
            # ...and the monitor raised the alert (de-duplicated in its memory, not in Redis).
            assert wait_for(lambda: webhook_sink.states("redis") == ["firing"], STATE_CHANGE), monitor_log.read_text()[
                -3000:
            ]
            private_redis.start()  # same port, empty: state must be rebuilt by the feeds
            assert feeds.poll() is None, "the feeds process died with Redis"
            assert wait_for(lambda: feed_status_get("binance")["state"] == "live", STATE_CHANGE), "no fresh feed status"
            assert cache_probe().status != DOWN
            assert wait_for(lambda: webhook_sink.states("redis") == ["firing", "resolved"], STATE_CHANGE), (
                monitor_log.read_text()
            )
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3), "candles stopped after the Redis restart"
            targets = {tf: last_closed(sim, tf) for tf in TIMEFRAMES}
            assert wait_for(lambda: _covered(sim), CATCH_UP, step=0.3)
    finally:
        for proc in (feeds, monitor):
            process_stop(proc)
    assert_candles_match(sim, "binance", SYMBOLS, targets, since_ms=start_ms)
    _no_duplicates()
    # One alert and one resolution per rule and channel: the test's email rule and the
    # monitor's settings rule (webhook). Only Redis went down.
    rows = [(n.rule.name, n.data["dependency"], n.data["state"], n.status) for n in alert_outbox("dependency_down")]
    assert sorted(rows) == [
        ("default", "redis", "firing", "sent"),
        ("default", "redis", "resolved", "sent"),
        ("resilience", "redis", "firing", "sent"),
        ("resilience", "redis", "resolved", "sent"),
    ]


def test_stalled_simulator_alerts_and_the_feed_recovers(exchange_sim_factory, alert_outbox, watch_settings):  # noqa: F811
    # Wall-clock simulator: message age is real time, as with a real exchange. (Candle
    # continuity across a stall is proven at 60x in tests/market/feeds/test_feed_faults.py.)
    sim = exchange_sim_factory(seed=7, symbols=SYMBOLS, trade_rate_hz=50)
    runner = start_feed(sim, "binance")

    def status(_exchange):
        return runner.status()

    try:
        wait_messages(runner, 20)
        assert feed_watch(status_source=status) == []
        sim.faults.stall("binance", 5.0)
        assert wait_for(lambda: feed_probe_factory("binance", status_source=status)().status != "ok", 10)
        assert _watch_until_alert(status) == ["binance"]
        assert [n.kind for n in alert_outbox("feed_down")] == ["feed_down"]
        wait_messages(runner, 100, timeout=20)
        assert wait_for(lambda: feed_watch(status_source=status) == [], 10)
        assert runner.is_alive()
    finally:
        runner.stop()


def test_flooding_simulator_loses_no_candle(exchange_sim_factory, alert_outbox):  # noqa: F811
    # ~1,500 trades/s per market into a small client queue: the feed must shed or resync,
    # never drop a candle or fall over.
    sim = exchange_sim_factory(seed=8, clock_speed=60.0, symbols=SYMBOLS, trade_rate_hz=1500)
    start_ms = sim.now_ms()
    runner = start_feed(sim, "binance", queue_size=200)
    try:
        wait_messages(runner, 5000, timeout=30)
        targets = wait_covered(runner, sim, timeout=30)
        assert runner.is_alive()
    finally:
        runner.stop()
    assert_candles_match(sim, "binance", SYMBOLS, targets, since_ms=start_ms)
    assert alert_outbox("feed_down") == []  # a busy feed is not a down feed
