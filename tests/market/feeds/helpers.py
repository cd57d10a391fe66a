"""Shared helpers of the feed end-to-end tests (real libraries against the simulator)."""

from __future__ import annotations

import time
from typing import Any

from apps.market.feeds.config import FeedConfig
from apps.market.feeds.embedded import simulator_urls
from apps.market.feeds.runner import FeedRunner
from apps.market.feeds.symbols import TIMEFRAME_MS, TIMEFRAMES
from apps.market.selectors import candle_list, dt_to_ms

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
GRACE_MS = 8000  # > one simulator tick (0.1 s wall = 6 s simulated at 60x)


def feed_config(sim: Any, exchange: str, **overrides: Any) -> FeedConfig:
    values: dict[str, Any] = {
        "exchange": exchange,
        "symbols": list(SYMBOLS),
        "urls": simulator_urls(sim),
        "simulated": True,
        "backfill_candles": 20,
        "stall_s": 2.0,
        "rest_rps": 50,
        "gap_grace_ms": GRACE_MS,
        "gap_check_s": 0.2,
        "lease_ttl_s": 5,
        "sync_instruments": False,
    }
    values.update(overrides)
    return FeedConfig(**values)


def start_feed(sim: Any, exchange: str, **overrides: Any) -> FeedRunner:
    runner = FeedRunner(feed_config(sim, exchange, **overrides)).start()
    assert runner.backfilled.wait(20), f"{exchange} backfill did not finish"
    return runner


def wait_for(predicate: Any, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def wait_messages(runner: FeedRunner, count: int, timeout: float = 10) -> None:
    target = runner.hub.messages + count
    assert wait_for(lambda: runner.hub.messages >= target, timeout), f"no fresh data (state {runner.state})"


def last_closed(sim: Any, tf: str) -> int:
    due = sim.now_ms() - GRACE_MS - 500
    step = TIMEFRAME_MS[tf]
    return due - due % step - step


def wait_covered(runner: FeedRunner, sim: Any, timeout: float = 10) -> dict[str, int]:
    """Until the feed has stored every candle closed (with grace) by now; returns the targets."""
    targets = {tf: last_closed(sim, tf) for tf in TIMEFRAMES}

    def done() -> bool:
        return all(
            runner.candles.covered.get((s, tf), -1) >= t for s in runner.config.symbols for tf, t in targets.items()
        )

    assert wait_for(done, timeout), dict(runner.candles.covered.items())
    return targets


def assert_candles_match(
    sim: Any, exchange: str, symbols: list[str], targets: dict[str, int], since_ms: int, back: int = 10
) -> None:
    """Stored candles equal the simulator's own klines: same open times (no gap, no dupe) and
    the same OHLCV, for every timeframe, from ``back`` candles before ``since_ms`` to the target."""
    for symbol in symbols:
        for tf, end in targets.items():
            step = TIMEFRAME_MS[tf]
            start = since_ms - since_ms % step - back * step
            stored = candle_list(exchange=exchange, symbol=symbol, timeframe=tf, start_ms=start, end_ms=end)
            truth = sim.closed_klines(exchange, symbol, tf, start, end)
            got = [(dt_to_ms(c.open_time), c.open, c.high, c.low, c.close, c.volume) for c in stored]
            want = [(k.open_time_ms, k.open, k.high, k.low, k.close, k.volume) for k in truth]
            diff = [(g, w) for g, w in zip(got, want, strict=False) if g != w]
            assert got == want, (exchange, symbol, tf, len(got), len(want), diff[:3])
            # Equal to the exchange's own list: no hole, no duplicate (KuCoin skips empty intervals).
            assert got and got[-1][0] == end, (exchange, symbol, tf, "not up to date")
