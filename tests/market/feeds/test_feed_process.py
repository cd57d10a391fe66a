"""kill -9 of the feeds process (run_feeds), then a restart: no gap, no duplicate."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.market.feeds.symbols import TIMEFRAMES
from apps.market.models import Candle
from apps.market.selectors import candle_last_open_map

from .helpers import GRACE_MS, SYMBOLS, assert_candles_match, last_closed, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[3]


def _spawn(sim) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "BINANCE_REST_URL": sim.binance_rest_url,
        "BINANCE_WS_URL": sim.binance_ws_url,
        "MARKET_BACKFILL_CANDLES": "20",
        "MARKET_FEED_STALE_S": "2",
        "MARKET_GAP_GRACE_MS": str(GRACE_MS),
        "MARKET_REST_MAX_RPS": "50",
        "PROCESS_ROLE": "test",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
    }
    env.pop("REDIS_URL", None)
    args = ["manage.py", "run_feeds", "--market", "live", "--exchange", "binance", "--symbols", ",".join(SYMBOLS)]
    return subprocess.Popen(
        [sys.executable, *args, "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _covered(sim) -> bool:
    have = candle_last_open_map(exchange="binance", symbols=SYMBOLS)
    return all(have.get((s, tf), -1) >= last_closed(sim, tf) for s in SYMBOLS for tf in TIMEFRAMES)


def test_kill_9_then_restart_leaves_no_gap_and_no_duplicate(exchange_sim_factory):
    sim = exchange_sim_factory(seed=3, clock_speed=60.0, symbols=SYMBOLS)
    start_ms = sim.now_ms()
    first = _spawn(sim)
    try:
        assert wait_for(lambda: _covered(sim), 25, step=0.3), "first feeds process never caught up"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        wait_for(lambda: False, 2.0)  # two simulated minutes pass with no feed at all
        second = _spawn(sim)
        try:
            assert wait_for(lambda: _covered(sim), 25, step=0.3), "restarted feeds process never caught up"
            targets = {tf: last_closed(sim, tf) for tf in TIMEFRAMES}
            assert wait_for(lambda: _covered(sim), 10, step=0.3)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert_candles_match(sim, "binance", SYMBOLS, targets, since_ms=start_ms)
    assert Candle.objects.filter(exchange="binance").count() == len(
        set(Candle.objects.filter(exchange="binance").values_list("symbol", "timeframe", "open_time"))
    )
