"""Closed candles of one feed: REST backfill, gap fill, storage, and the close notifications.

A streamed closed kline is stored at once (the UI wants it), but only a REST read makes a
candle final: the stream can close a candle before its last trades are booked, and one
arriving after an outage must not hide the hole before it. ``covered`` is, per (symbol,
timeframe), the newest closed open time up to which everything is stored and final.

The consumers of closes (the bots, through ``FeedConfig.closes_sink``, which the process's
composition root wires) are told of closes only up to ``covered``: a streamed close right after a reconnect
waits until the REST fill has stored the candles the outage missed, and the notification
then names the newest close. The bot runner evaluates every stored close it has not seen
up to that one, each exactly once (``apps.bots.services.runner``), so after an outage or a
restart no close is skipped and none is evaluated twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from apps.market import metrics
from apps.market.events import KlineEvent
from apps.market.feeds.symbols import TIMEFRAME_MS, TIMEFRAMES

if TYPE_CHECKING:
    from apps.market.feeds.adapters import ExchangeAdapter
    from apps.market.feeds.config import FeedConfig
    from apps.market.feeds.hub import FeedHub
    from apps.market.feeds.indicator_bridge import FeedIndicators

logger = logging.getLogger("apps.market.feeds")

Key = tuple[str, str]  # (symbol, timeframe)
InDb = Callable[..., Awaitable[Any]]


class CandleSync:
    def __init__(
        self,
        *,
        config: FeedConfig,
        adapter: ExchangeAdapter,
        hub: FeedHub,
        in_db: InDb,
        alive: Callable[[], None],
        indicators: FeedIndicators | None = None,
    ) -> None:
        self.config = config
        self.exchange = config.exchange
        self.adapter = adapter
        self.hub = hub
        self._in_db = in_db
        self.covered: dict[Key, int] = {}  # newest stored-and-final closed open time
        self.notified: dict[Key, int] = {}  # newest close the bots were told of, this process
        self._alive = alive  # backfill progress counts as a sign of life for the supervisor
        self._retry_at: dict[Key, float] = {}
        self._pending: list[KlineEvent] = []
        self._gap_now = asyncio.Event()
        self.indicators = indicators

    async def load_covered(self) -> None:
        """What is stored before the stream adds anything: where backfill starts."""
        from apps.market.selectors import candle_last_open_map

        self.covered = await self._in_db(candle_last_open_map, exchange=self.exchange, symbols=self.config.symbols)

    def gap_now(self) -> None:
        """After a reconnect: REST-backfill what the outage missed and re-seed forming candles."""
        self._gap_now.set()

    # -- backfill ---------------------------------------------------------------------------
    async def backfill(self, clock: int) -> None:
        from apps.market.cache import backfill_progress_set

        keys = [(s, tf) for s in self.config.symbols for tf in TIMEFRAMES]
        backfill_progress_set(self.exchange, done=0, total=len(keys), state="running")
        for done, (symbol, tf) in enumerate(keys, start=1):
            await self._fill(symbol, tf, clock, seed=True)
            self._alive()
            backfill_progress_set(self.exchange, done=done, total=len(keys), state="running")
            if self.config.progress:
                self.config.progress(done, len(keys))
        backfill_progress_set(self.exchange, done=len(keys), total=len(keys), state="done")

    async def _fill(self, symbol: str, tf: str, clock: int, *, seed: bool) -> None:
        """Fetch [first missing closed candle .. now] from REST, store the closed ones, seed the
        forming one. With nothing stored, start backfill_candles back."""
        step = TIMEFRAME_MS[tf]
        have = self.covered.get((symbol, tf))
        floor = clock - clock % step - self.config.backfill_candles * step
        start = floor if have is None else max(have + step, floor)
        if not seed and have is not None and start > clock - clock % step - step:
            return
        # "clock" already has the grace taken off; ask for a little more to see the forming row.
        rows = await self.adapter.klines(symbol, tf, start, clock + self.config.gap_grace_ms)
        closed = [k for k in rows if k.open_time_ms + step <= clock]
        if seed:
            forming = [k for k in rows if k.open_time_ms + step > clock]
            if forming:
                self.hub.aggregator.of(symbol).seed(forming[-1])
        if closed:
            await self.persist(closed, from_rest=True)
        else:
            self._retry_at[(symbol, tf)] = time.monotonic() + 1.0
        if closed or seed:
            await self._indicators_rebuild(symbol, tf)

    async def _indicators_rebuild(self, symbol: str, tf: str) -> None:
        """The REST fill stored candles of this key (or the feed (re)started): rebuild its
        indicator state from the database, so no stored candle is missing from it."""
        if self.indicators is None:
            return
        from apps.market.feeds.indicator_bridge import indicator_state_build

        state = await self._in_db(
            indicator_state_build, exchange=self.exchange, symbol=symbol, timeframe=tf, params=self.indicators.params
        )
        self.hub.indicators_set(symbol, tf, self.indicators.install(symbol, tf, state))

    # -- gap fill ---------------------------------------------------------------------------
    async def gap_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gap_now.wait(), timeout=self.config.gap_check_s)
            reseed = self._gap_now.is_set()
            self._gap_now.clear()
            try:
                await self._gap_pass(reseed=reseed)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s gap fill failed", self.exchange)
                await asyncio.sleep(1)

    async def _gap_pass(self, *, reseed: bool) -> None:
        clock = self.hub.clock_ms
        if reseed or not clock:
            clock = max(clock, await self.adapter.server_time())
        now = time.monotonic()
        for symbol in self.config.symbols:
            for tf in TIMEFRAMES:
                step = TIMEFRAME_MS[tf]
                due = clock - self.config.gap_grace_ms
                last_closed = due - due % step - step
                if not reseed and (self.covered.get((symbol, tf), -1) >= last_closed):
                    continue
                if not reseed and self._retry_at.get((symbol, tf), 0) > now:
                    continue
                await self._fill(symbol, tf, due, seed=reseed)

    # -- storage ----------------------------------------------------------------------------
    def closed(self, candles: list[KlineEvent]) -> None:
        """The hub's sink for streamed closes (event loop thread); stored by the flush loop."""
        self._pending.extend(candles)

    async def persist_pending(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            await self.persist(batch)

    async def persist(self, candles: list[KlineEvent], *, from_rest: bool = False) -> None:
        from apps.market.services import candles_upsert

        await self._in_db(candles_upsert, candles=candles)
        for c in candles:
            if from_rest:
                key = (c.symbol, c.timeframe)
                self.covered[key] = max(self.covered.get(key, -1), c.open_time_ms)
            metrics.candles_closed.labels(self.exchange, c.timeframe).inc()
        sink = self.config.closes_sink
        due = self._closes_due(candles)
        if due and sink is not None:
            await self._in_db(_closes_tell, sink=sink, exchange=self.exchange, closes=due)
            self.notified.update(due)

    def _closes_due(self, candles: list[KlineEvent]) -> dict[Key, int]:
        """Per (symbol, timeframe) of ``candles``: the newest close the bots may now be told of
        (final: at most ``covered``, or the streamed close just after it) and were not yet."""
        due: dict[Key, int] = {}
        for c in candles:
            key = (c.symbol, c.timeframe)
            covered = self.covered.get(key, -1)
            final = c.open_time_ms <= covered or c.open_time_ms == covered + TIMEFRAME_MS[c.timeframe]
            if final and c.open_time_ms > max(self.notified.get(key, -1), due.get(key, -1)):
                due[key] = c.open_time_ms
        return due


def _closes_tell(*, sink: Callable[..., None], exchange: str, closes: dict[Key, int]) -> None:
    try:
        sink(exchange=exchange, closes=closes)
    except Exception:  # a consumer's failure must not stop the feed; the candles are stored
        logger.exception("close notification failed for %s %s", exchange, sorted(closes))
