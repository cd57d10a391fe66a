"""One exchange feed: its own thread and event loop, the adapter, the hub, and the I/O around
them (backfill, gap fill, persistence, cache, pushes, status, lease).

Running each exchange in its own loop isolates the libraries from each other (kucoin-python's
tasks never end on their own) and lets the watchdog kill and restart one feed alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from apps.market import metrics
from apps.market.events import KlineEvent
from apps.market.feeds.adapters import ExchangeAdapter, StreamEnded, adapter_build
from apps.market.feeds.backoff import Backoff
from apps.market.feeds.candle_sync import CandleSync
from apps.market.feeds.config import FeedConfig
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.hub import FeedHub
from apps.market.feeds.indicator_bridge import FeedIndicators
from apps.market.feeds.lease import FeedLease, shard_key
from apps.market.feeds.loop_teardown import loop_close_clean

logger = logging.getLogger("apps.market.feeds")

# How long the loop's tasks get to end on cancel before the teardown ends them by force:
# kucoin-python swallows CancelledError while it reconnects, and a stop must not wait for it.
STOP_GRACE_S = 5.0


class FeedRunner:
    def __init__(self, config: FeedConfig):
        self.config = config
        self.exchange = config.exchange
        self.indicators = FeedIndicators(config.exchange)
        self.hub = FeedHub(
            config.exchange,
            candle_source="exchange",
            closed_sink=self._closed_sink,
            indicator_hook=self.indicators,
            push_hz=config.push_hz,
            recent_trades=config.recent_trades,
            symbols=config.symbols,
            push_phase=config.push_phase,
        )
        self.adapter: ExchangeAdapter = adapter_build(
            config.exchange, urls=config.urls, rest_rps=config.rest_rps, queue_size=config.queue_size
        )
        self.lease = FeedLease(
            shard_key(config.exchange, config.symbols), ttl_s=config.lease_ttl_s, client=config.lease_client
        )
        self.state = "starting"
        self.reconnects = 0
        self.backfilled = threading.Event()
        self.last_alive = time.monotonic()  # messages, and backfill progress
        # Heartbeats of the periodic loops; the supervisor restarts a feed whose loop stalled.
        self.beats: dict[str, float] = {"flush": time.monotonic(), "push": time.monotonic()}
        self.candles = CandleSync(
            config=config,
            adapter=self.adapter,
            hub=self.hub,
            in_db=self._in_db,
            alive=self._mark_alive,
            indicators=self.indicators,
        )
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()  # stop() asked: seen by the loop however early
        self._db = ThreadPoolExecutor(1, thread_name_prefix=f"feed-db-{config.exchange}")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._msg_counters: dict[str, Any] = {}

    # -- lifecycle (any thread) ---------------------------------------------------------------
    def start(self) -> FeedRunner:
        self.thread = threading.Thread(target=self._thread_main, name=f"feed-{self.exchange}", daemon=True)
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end cleanly; if it has not within ``timeout``, stop it where it is
        (the teardown then ends what is left). A stopped runner's thread is always gone: one
        left streaming keeps its shard lease and keeps writing feed status (CI, 2026-12-03)."""
        self._stopping.set()
        loop, stop = self.loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if self.thread is None:
            return
        self.thread.join(timeout)
        loop = self.loop  # it may have been created after the first read
        if self.thread.is_alive() and loop is not None and not loop.is_closed():
            logger.warning("%s feed did not stop in %.0fs: stopping its loop", self.exchange, timeout)
            loop.call_soon_threadsafe(loop.stop)
            self.thread.join(STOP_GRACE_S * 3)

    def kill(self) -> None:
        """Die without cleanup, as a crash would (tests; the watchdog must notice)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(5)

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        except RuntimeError as exc:
            logger.warning("%s feed loop stopped: %s", self.exchange, exc)
        except Exception:
            logger.exception("%s feed crashed", self.exchange)
        finally:
            self.state = "down"
            metrics.feed_connected.labels(self.exchange).set(0)
            self._teardown_loop(loop)
            self._db.submit(_close_db_connections).result(timeout=5)
            self._db.shutdown(wait=False)

    def _teardown_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        # Nothing of this loop may be left for the GC to finalize on another thread: that is
        # what froze the embedded simulator (see loop_teardown.py).
        loop_close_clean(loop)

    # -- main ------------------------------------------------------------------------------
    async def _main(self) -> None:
        self._stop = asyncio.Event()
        if self._stopping.is_set():  # stop() came before the loop could hear it
            return
        self.candles = CandleSync(
            config=self.config,
            adapter=self.adapter,
            hub=self.hub,
            in_db=self._in_db,
            alive=self._mark_alive,
            indicators=self.indicators,
        )
        await self._acquire_lease()
        try:
            await self._open()
            await self.candles.load_covered()
            tasks = [
                asyncio.create_task(self._stream_loop()),
                asyncio.create_task(self._flush_loop()),
                asyncio.create_task(self._push_loop()),
                asyncio.create_task(self._status_loop()),
            ]
            await self._startup()
            tasks += [asyncio.create_task(self.candles.gap_loop()), asyncio.create_task(self._ticker_loop())]
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            ended, stuck = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
            for task in ended:  # retrieved, so none is reported as "never retrieved"
                _ = task.cancelled() or task.exception()
            if stuck:
                logger.warning(
                    "%s: %d task(s) ignored the stop; the loop teardown ends them", self.exchange, len(stuck)
                )
            await self.candles.persist_pending()
        finally:
            await self._close_adapter()
            await asyncio.to_thread(self.lease.release)
            self.state = "down"
            self._status_write()

    async def _acquire_lease(self) -> None:
        while not await asyncio.to_thread(self.lease.acquire):
            self.state = "standby"
            self.last_alive = time.monotonic()
            await asyncio.sleep(self.config.lease_ttl_s / 3)

    async def _open(self) -> None:
        backoff = Backoff(base=0.5, cap=self.config.reconnect_max_s)
        while True:
            try:
                await self.adapter.open()
                return
            except Exception as exc:
                self.state = "reconnecting"
                logger.warning("%s: cannot open REST client: %r", self.exchange, exc)
                await self._close_adapter()
                await asyncio.sleep(backoff.next_delay())

    async def _close_adapter(self) -> None:
        try:
            await self.adapter.close()
        except Exception:
            logger.debug("%s adapter close failed", self.exchange, exc_info=True)

    async def _startup(self) -> None:
        from apps.market.services import instruments_sync

        if self.config.sync_instruments:
            try:
                rows = await self.adapter.instruments()
                await self._in_db(instruments_sync, exchange=self.exchange, rows=rows)
            except Exception:
                logger.exception("%s instrument sync failed", self.exchange)
        clock = max(self.hub.clock_ms, await self.adapter.server_time())
        await self.candles.backfill(clock - self.config.gap_grace_ms)
        self.backfilled.set()

    def _closed_sink(self, candles: list[KlineEvent]) -> None:
        self.candles.closed(candles)

    def _mark_alive(self) -> None:
        self.last_alive = time.monotonic()

    async def _in_db(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, lambda: fn(**kwargs))

    # -- stream -----------------------------------------------------------------------------
    def _on_reconnect(self) -> None:
        from apps.market.cache import cache_invalidate

        self.reconnects += 1
        metrics.feed_reconnects.labels(self.exchange).inc()
        self.hub.reset()
        cache_invalidate(self.exchange, self.config.symbols)
        self.candles.gap_now()

    async def _stream_loop(self) -> None:
        backoff = Backoff(base=0.2, cap=self.config.reconnect_max_s)
        first = True
        while True:
            if not first:
                self._on_reconnect()
            self.state = "connecting" if first else "reconnecting"
            self._connected = False
            started = self.hub.messages
            try:
                await self.adapter.stream(self.config.symbols, self._on_message, stall_s=self.config.stall_s)
            except StreamEnded as exc:
                logger.warning("%s stream ended: %s", self.exchange, exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s stream failed: %r", self.exchange, exc)
            metrics.feed_connected.labels(self.exchange).set(0)
            first = False
            if self.hub.messages > started:
                backoff.reset()
            self.state = "reconnecting"
            await asyncio.sleep(backoff.next_delay())

    def _on_message(self, event: Any) -> None:
        if event is None:
            return
        if isinstance(event, MalformedMessage):
            self.hub.malformed += 1
            metrics.market_malformed.labels(self.exchange).inc()
            logger.warning("%s malformed frame skipped: %s", self.exchange, event)
            return
        if isinstance(event, FeedControl):
            logger.warning("%s control message: %s %s", self.exchange, event.kind, event.detail)
            if event.kind == "reconnected":
                self._on_reconnect()
            return
        self.hub.handle(event)
        self.last_alive = time.monotonic()
        if not self._connected:
            self._connected = True
            self.state = "simulated" if self.config.simulated else "live"
            metrics.feed_connected.labels(self.exchange).set(1)
            self._status_write()
        kind = type(event).__name__
        counter = self._msg_counters.get(kind)
        if counter is None:
            counter = self._msg_counters[kind] = metrics.market_messages.labels(self.exchange, kind)
        counter.inc()

    async def _ticker_loop(self) -> None:
        """KuCoin has no 24h ticker stream among our topics: poll allTickers (one call)."""
        while True:
            try:
                for ticker in await self.adapter.tickers(self.config.symbols):
                    self.hub.tickers[ticker.symbol] = ticker
                    self.hub.mark_dirty(ticker.symbol)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s ticker poll failed: %r", self.exchange, exc)
            await asyncio.sleep(5)

    # -- periodic I/O -----------------------------------------------------------------------
    async def _flush_loop(self) -> None:
        from apps.market.cache import cache_write_many

        while True:
            await asyncio.sleep(self.config.flush_ms / 1000)
            self.beats["flush"] = time.monotonic()
            try:
                cache_write_many(self.hub.flush_cache())
                await self.candles.persist_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s flush failed", self.exchange)

    async def _push_loop(self) -> None:
        """Pushes on the hub's push ticks, apart from the cache flush: each tick sends only the
        symbols of its slot, so the frames of a push interval leave spread over it instead of
        in one burst per flush (see hub.py)."""
        while True:
            at = self.hub.push_next_at(time.monotonic())
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            self.beats["push"] = time.monotonic()
            try:
                # The scheduled tick, not the wake-up time: a timer that fires a hair early must
                # not land in the previous tick.
                pushes = self.hub.pushes_due(max(time.monotonic(), at))
                if pushes:
                    # Closed candles are stored before they are pushed, as when both ran in one
                    # flush: a client that reloads after seeing a close finds it (no-op mostly).
                    await self.candles.persist_pending()
                for group, message in pushes:
                    await self._push(group, message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s push failed", self.exchange)

    async def _push(self, group: str, message: dict[str, Any]) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        # Wall-clock send time: lets clients (bench/ws_fanout.py) measure push-to-client latency.
        message = {**message, "pushed_ms": time.time_ns() // 1_000_000}
        target = self.config.push_loop
        if target is not None and target is not asyncio.get_running_loop():
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), target)
        else:
            await layer.group_send(group, message)

    async def _status_loop(self) -> None:
        renew_every = max(self.config.lease_ttl_s / 3, 0.5)
        last_renew = time.monotonic()
        while True:
            try:
                self._status_write()
            except Exception as exc:  # Redis away: keep streaming, write again next second
                logger.warning("%s status write failed: %r", self.exchange, exc)
            if time.monotonic() - last_renew >= renew_every:
                last_renew = time.monotonic()
                try:
                    renewed = await asyncio.to_thread(self.lease.renew)
                except Exception as exc:
                    # Nobody can take the lease while its store is unreachable: keep streaming.
                    logger.warning("%s lease renew failed: %r", self.exchange, exc)
                    renewed = True
                if not renewed:
                    logger.error("%s lost its shard lease; stopping", self.exchange)
                    assert self._stop is not None  # nosec B101 - type narrowing; set in _main before this task runs
                    self._stop.set()
            await asyncio.sleep(1.0)

    def status(self) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        clock = self.hub.clock_ms or None
        return {
            "state": self.state,
            "last_message_ts": clock,
            "lag_ms": (now_ms - clock) if clock else None,
            "reconnects": self.reconnects,
            "messages": self.hub.messages,
            "malformed": self.hub.malformed,
            "used_weight": self.adapter.used_weight,
            "symbols": list(self.config.symbols),
        }

    def _status_write(self) -> None:
        from apps.market.cache import feed_status_set

        status = self.status()
        feed_status_set(self.exchange, **status)
        if status["lag_ms"] is not None:
            metrics.feed_lag_seconds.labels(self.exchange).set(status["lag_ms"] / 1000)
        if status["used_weight"] is not None:
            metrics.rest_weight.labels(self.exchange).set(status["used_weight"])


def _close_db_connections() -> None:
    from django.db import connections

    connections.close_all()
