"""Nothing freezes silently (issue 16, item 5): every producer has a heartbeat, a stalled
one is restarted, and the banner says so while it lasts."""

from __future__ import annotations

import pytest

from apps.core.banner import banner_state
from apps.market import cache as market_cache
from apps.market.feeds.embedded import market_start
from apps.market.feeds.supervisor import FeedSupervisor
from apps.ops.models import AlertNotification

from .helpers import SYMBOLS, feed_config, wait_for, wait_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
# What config/settings/ops.py adds by default (ALERT_PAGE_MIN_SEVERITY=warning).
PAGE_RULE = {"name": "status-page", "kind": "*", "min_severity": "warning", "page": True}


def test_a_dead_simulator_engine_is_restarted_by_its_heartbeat(settings):
    settings.MARKET_BACKFILL_CANDLES = 3
    settings.MARKET_FEED_STALE_S = 1
    handle = market_start("sim", symbols=["BTCUSDT"])
    try:
        sim = handle.simulator
        runner = handle.supervisor.runners["binance"]
        assert runner.backfilled.wait(30)
        wait_messages(runner, 10)
        dead = sim._engine
        sim.call(dead.cancel)  # what the leaked asyncio timer did to it (test_feed_teardown.py)
        assert wait_for(lambda: sim._engine is not dead and not sim._engine.done(), 15)
        wait_messages(handle.supervisor.runners["binance"], 10, timeout=20)
    finally:
        handle.stop()


def test_stalled_flush_and_push_loops_get_the_feed_restarted(exchange_sim_factory):
    sim = exchange_sim_factory(seed=8, clock_speed=60.0, symbols=SYMBOLS)
    supervisor = FeedSupervisor([feed_config(sim, "binance")], stale_s=1.0, check_s=3600).start()
    try:
        runner = supervisor.runners["binance"]
        assert runner.backfilled.wait(20)
        wait_messages(runner, 10)
        assert supervisor.check() == []
        runner.beats["flush"] -= 60  # as if the flush loop had hung a minute ago
        assert supervisor.check() == ["binance"]
        fresh = supervisor.runners["binance"]
        assert fresh.backfilled.wait(20)
        wait_messages(fresh, 10)
        fresh.beats["push"] -= 60
        assert supervisor.check() == ["binance"]
    finally:
        supervisor.stop()


def test_banner_says_stalled_while_a_feed_is_down(settings):
    settings.MARKET_BACKFILL_CANDLES = 3
    handle = market_start("sim", symbols=["BTCUSDT"])
    try:
        for exchange in ("binance", "kucoin"):
            assert wait_for(lambda ex=exchange: market_cache.feed_status_get(ex)["state"] == "simulated", 30)
        assert banner_state().market_mode == "simulated"
        handle.supervisor.stop()  # both feeds down; nothing restarts them
        assert wait_for(lambda: banner_state().market_mode == "stalled", 10)
    finally:
        handle.stop()


def test_feed_down_in_embedded_mode_raises_the_alert_and_the_status_page_shows_it(settings, client):
    import time

    from django.contrib.auth import get_user_model

    from apps.ops.watchdog import feed_watch

    settings.MARKET_BACKFILL_CANDLES = 3
    settings.ALERT_FEED_DOWN_SECONDS = 1
    settings.HEALTH_FEED_EXCHANGES = ["binance", "kucoin"]
    settings.OPS_ALERT_RULES = [PAGE_RULE]  # make run's rules: no mail, no webhook
    handle = market_start("sim", symbols=["BTCUSDT"])
    try:
        assert wait_for(lambda: market_cache.feed_status_get("kucoin")["state"] == "simulated", 30)
        handle.supervisor.stop()  # the feeds are down and stay down
        assert wait_for(lambda: market_cache.feed_status_get("kucoin")["state"] == "down", 10)
        now = time.time()
        feed_watch(now=now)
        assert sorted(feed_watch(now=now + 2)) == ["binance", "kucoin"]
        # make run has no alert channel configured: the page must not say "All quiet" anyway.
        client.force_login(get_user_model().objects.create_user("watcher", password="x-Long-pass-1"))
        page = client.get("/status/").content.decode()
        assert "All quiet" not in page and "KuCoin feed down" in page, page[-3000:]
        # The alert itself is on the page too: the in-app channel needs no configuration.
        shown = AlertNotification.objects.filter(kind="feed_down", channel="page", status="sent")
        assert shown.count() == 2 and all(n.title in page for n in shown), page[-3000:]
    finally:
        handle.stop()
