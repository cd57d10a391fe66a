"""The 21-minute freeze: a killed KuCoin feed must not take the simulator (or any other
loop) down with it.

kucoin-python's ``ConnectWebsocket._run`` swallows CancelledError, so a killed feed loop used
to be closed with that task (and the runner's ``_stream_loop``) still pending. The cyclic
garbage collector later finalized those coroutines on whatever thread it happened to run:
websockets' close path then ran ``asyncio.timeout_at`` against *that* thread's running loop and
current task, and 10 s later cancelled it. When the victim was the embedded simulator's
engine task, prices froze and every stream went silent for good.
"""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from apps.market.feeds.config import FeedConfig
from apps.market.feeds.lease import FeedLease
from apps.market.feeds.runner import FeedRunner

from .helpers import SYMBOLS, feed_config, start_feed, wait_for, wait_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _pending_tasks_of(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    # type(), not isinstance(): gc.get_objects() also holds weakref proxies to dead objects.
    return [o for o in gc.get_objects() if type(o) is asyncio.Task and o.get_loop() is loop and not o.done()]


def _foreign_timeouts(loop: asyncio.AbstractEventLoop) -> list[object]:
    """asyncio.timeout() handles planted on ``loop`` by code that is not running on it."""
    handles = list(getattr(loop, "_scheduled", [])) + list(getattr(loop, "_ready", []))
    return [h for h in handles if type(getattr(h._callback, "__self__", None)).__name__ == "Timeout"]


def _kill_while_the_simulator_hangs(sim, runner) -> None:
    """The supervisor kills a feed that was silent because the simulator's loop hung (one
    long-history request used to block it for 10-40 s): the close handshake gets no answer."""
    hung = asyncio.run_coroutine_threadsafe(_hang(3.0), sim._loop)
    runner.kill()
    assert wait_for(lambda: not runner.is_alive(), 10)
    hung.result(10)


async def _hang(seconds: float) -> None:
    time.sleep(seconds)  # blocks the simulator's loop, as a slow synchronous handler does


def test_killed_kucoin_feed_leaves_no_pending_task_behind(exchange_sim_factory):
    sim = exchange_sim_factory(seed=5, clock_speed=60.0, symbols=SYMBOLS)
    runner = start_feed(sim, "kucoin")
    wait_messages(runner, 20)
    loop = runner.loop
    _kill_while_the_simulator_hangs(sim, runner)
    assert loop is not None and loop.is_closed()
    assert _pending_tasks_of(loop) == []


@pytest.fixture
def collector_paused(caplog):
    """The cyclic GC runs only where the test says (it otherwise fires on any thread). The
    feeds' and kucoin-python's errors are not captured: a captured record keeps its traceback, and with it the
    dead loop's tasks, alive (a log handler in production keeps nothing)."""
    caplog.set_level("CRITICAL", logger="apps.market.feeds")
    caplog.set_level("CRITICAL", logger="kucoin")
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_garbage_collection_on_the_simulator_thread_after_kucoin_restarts_keeps_it_running(
    exchange_sim_factory, collector_paused
):
    sim = exchange_sim_factory(seed=6, clock_speed=60.0, symbols=SYMBOLS)
    binance = start_feed(sim, "binance")
    try:
        for _ in range(2):
            kucoin = start_feed(sim, "kucoin")
            wait_messages(kucoin, 20)
            _kill_while_the_simulator_hangs(sim, kucoin)
        del kucoin
        harm = asyncio.run_coroutine_threadsafe(_collect_inside_a_task(), sim._loop).result(10)
        assert harm == [], "a leaked coroutine, finalized on the simulator's thread, targets its task"
        assert sim._engine is not None and not sim._engine.done()
        wait_messages(binance, 50)
    finally:
        binance.stop()


async def _collect_inside_a_task() -> list[str]:
    """As the cyclic GC does when it fires during an allocation of the simulator's engine
    step: collect, then report what would hit this task (a cancel now, or a timer armed)."""
    gc.collect()
    try:
        for _ in range(3):
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        return ["cancelled"]
    return [repr(h) for h in _foreign_timeouts(asyncio.get_running_loop())]


async def _stream_ignoring_cancel(symbols: list[str], on_event: object, *, stall_s: float) -> None:
    """What kucoin-python's ConnectWebsocket does while it reconnects: swallow every cancel."""
    while True:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            continue


def test_stop_ends_the_feed_thread_even_when_its_stream_ignores_cancel(exchange_sim_factory):
    """CI, 2026-12-03: a feed left running after its stop kept its shard lease and wrote feed
    status into the next test's cache; three later tests failed far from the cause."""
    sim = exchange_sim_factory(seed=7, clock_speed=60.0, symbols=SYMBOLS)
    runner = FeedRunner(feed_config(sim, "kucoin"))
    runner.adapter.stream = _stream_ignoring_cancel  # type: ignore[method-assign]
    runner.start()
    assert runner.backfilled.wait(20)
    runner.stop(timeout=1.0)
    assert not runner.is_alive()
    assert runner.loop is not None and runner.loop.is_closed()
    assert FeedLease(runner.lease.key, ttl_s=5).acquire(), "the stopped feed still holds its lease"


def test_stop_ends_a_feed_that_cannot_reach_its_exchange():
    """Stopped while still retrying its first connection (the exchange is down): no loop ever
    reached the point where it waits for the stop."""
    dead = {"binance_rest": "http://127.0.0.1:9", "binance_ws": "ws://127.0.0.1:9", "kucoin_rest": "http://127.0.0.1:9"}
    runner = FeedRunner(FeedConfig(exchange="binance", symbols=list(SYMBOLS), urls=dead, simulated=True, lease_ttl_s=5))
    runner.start()
    assert wait_for(lambda: runner.state == "reconnecting", 10), runner.state
    runner.stop(timeout=1.0)
    assert not runner.is_alive()


def test_stop_right_after_start_is_heard():
    dead = {"binance_rest": "http://127.0.0.1:9", "binance_ws": "ws://127.0.0.1:9", "kucoin_rest": "http://127.0.0.1:9"}
    runner = FeedRunner(FeedConfig(exchange="binance", symbols=list(SYMBOLS), urls=dead, simulated=True, lease_ttl_s=5))
    runner.start().stop(timeout=5.0)
    assert not runner.is_alive()
