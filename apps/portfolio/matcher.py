"""The paper order matcher: resting limit and stop orders meet every trade/book event.

It runs inside the feed process, registered with ``apps.market.events.register_event_listener``.
The listener is on the hub's hot path (possibly inside the event loop), so it only does an
in-memory check against an index of resting orders per (exchange, symbol); orders that the
event may fill are queued and a worker thread applies them through the service, one
transaction per order (``services.resting.resting_order_match``), which re-checks everything
under lock.

The index is loaded from the database on start (open orders survive restarts) and refreshed
every ``SYNC_SECONDS`` for orders placed by other processes; same-process placements are
added on commit.

Downtime (FILL_REALISM rule 10). The matcher remembers the newest event time it saw per
(exchange, symbol) and saves it every ``SYNC_SECONDS`` (``MatcherCheckpoint``). On start
(``Matcher.start``) each open resting order is replayed from its symbol's checkpoint (or
its own arrival) to now against stored 1m candles (``services.replay.order_downtime_replay``):
only candles wholly inside the window count; a limit fills at its price when a candle traded
through it, at most ``downtime.REPLAY_VOLUME_SHARE`` of the candle's volume; a stop (or a
trailing stop, whose best price follows the path) triggers by the live rule along the
candle's intra-candle path (``resting_rules.bar_path``, docs/ORDERS.md) and a stop-market
fills at the worse of its trigger (the level, or the open if the candle gapped through it)
and the path's extreme after it in the triggering direction. The orders of one OCO list
are replayed in the order the downtime reached them, so the first cancels the other. Those fills carry the rule ``replay_candle``. Stretches no candle covers are
recorded as ``OrderDowntime(kind="not_simulated")``, the order's ``not_simulated`` flag and an
``order.not_simulated`` audit event: "not simulated during downtime from X to Y". The order's
``matched_until_ms`` moves to the end of the window, so a print of the window arriving late
is not applied a second time.

Queue position (rule 3, per portfolio ``queue_position_model``). A print exactly at a resting
limit's price first eats the book quantity that was ahead of the order on its arrival book
(``Order.queue_ahead``, estimated on the first such print); only the excess fills it. Prints
through the price fill as without the model and clear the queue.

Cancel latency (rule 6). ``services.orders.order_cancel`` keeps the synchronous
contract of a cancel (the order is ``canceled`` when the call returns) and adds the
latency the cancel needs to reach the exchange: deadline = cancel time + a latency sampled
from (portfolio seed, order seq, "cancel"). Before canceling, every print with an exchange
timestamp between the order's arrival (or the last print applied to it) and that deadline
that this process already holds (this matcher's queue for the order and the shared cache's
recent trades) is applied to the order by the normal rules. If those in-flight prints fill
it completely the cancel fails with the exchange's unknown-order error, as a real cancel
racing a fill does. The deadline is stored on the order (``cancel_deadline_ms``). Prints
that had not reached this process when the cancel was made are not applied.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from apps.market.events import BookSnapshot, MarketEvent, TradeEvent
from apps.market.selectors import candle_last_open_map
from apps.portfolio import books, resting_index
from apps.portfolio.resting_index import RestingView, may_fill, resting_view
from apps.portfolio.services.replay import checkpoints_get, checkpoints_save, matcher_downtime_replay
from apps.portfolio.services.resting import resting_order_match, resting_orders_watch

logger = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
MINUTE_MS = 60_000
# How long a starting matcher waits for the feeds' gap fill to store the 1m candles of the
# downtime (a restarted feed needs its REST backfill; the last minute also its grace period).
CANDLES_WAIT_S = 90.0
CANDLES_POLL_S = 0.5


class Matcher:
    def __init__(self, *, threaded: bool = True) -> None:
        self._threaded = threaded
        self._index: dict[tuple[str, str], dict[int, RestingView]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, TradeEvent | BookSnapshot]] = queue.Queue()
        self._loaded = False
        self._last_sync = 0.0
        self._thread: threading.Thread | None = None
        # Newest event time seen per (exchange, symbol), and what was last saved.
        self._marks: dict[tuple[str, str], int] = {}
        self._saved_marks: dict[tuple[str, str], int] = {}
        # Exchange time of the first event this matcher saw: "now" for its downtime replay. Not
        # the wall clock: the checkpoints and candles are in exchange time (which a simulator
        # may run faster than the wall).
        self._first_event_ms: int | None = None

    # -- start, downtime and checkpoints ---------------------------------------------------
    def start(self, *, now_ms: int | None = None, candles_wait_s: float = CANDLES_WAIT_S) -> list[Any]:
        """Load the open orders and replay (or mark) the downtime since the last checkpoint.

        The replay reads stored 1m candles, and after an outage the feeds store the missed
        ones only with their REST gap fill, which runs after the stream is back (and so after
        the first event started this matcher). So the index is loaded first (live prints queue
        for the open orders and are applied after the replay; those of the replayed window are
        skipped by ``matched_until_ms``), then the replay waits, at most ``candles_wait_s``, for
        the candles up to the last whole minute before ``now_ms``; what is still missing then is
        marked not simulated, as before."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        self.load()
        checkpoints = checkpoints_get()
        self._candles_await(until_ms=now_ms, wait_s=candles_wait_s)
        results = matcher_downtime_replay(now_ms=now_ms, checkpoints=checkpoints)
        self.load()
        return results

    def _candles_await(self, *, until_ms: int, wait_s: float) -> bool:
        with self._lock:
            keys = [key for key, bucket in self._index.items() if bucket]
        needed = until_ms - until_ms % MINUTE_MS - MINUTE_MS
        deadline = time.monotonic() + wait_s
        while keys:
            keys = [key for key in keys if not _minute_stored(key, open_ms=needed)]
            if not keys or time.monotonic() >= deadline:
                break
            time.sleep(CANDLES_POLL_S)
        return not keys

    def checkpoint_flush(self) -> int:
        """Save the event times seen since the last flush; returns how many symbols moved."""
        with self._lock:
            moved = {k: v for k, v in self._marks.items() if v > self._saved_marks.get(k, -1)}
        checkpoints_save(marks=moved)
        self._saved_marks.update(moved)
        return len(moved)

    def pending_events(self, *, order_id: int) -> list[MarketEvent]:
        """Events queued for this order and not applied yet (a latent cancel applies them)."""
        with self._queue.mutex:
            return [event for queued_id, event in self._queue.queue if queued_id == order_id]

    # -- index -------------------------------------------------------------------
    def load(self) -> int:
        """Rebuild the index from the database (start-up and periodic sync)."""
        fresh: dict[tuple[str, str], dict[int, RestingView]] = {}
        for order in resting_orders_watch():
            fresh.setdefault((order.exchange, order.symbol), {})[order.pk] = resting_view(order)
        with self._lock:
            self._index = fresh
        self._loaded = True
        self._last_sync = time.monotonic()
        return sum(len(v) for v in fresh.values())

    def update(self, *, key: tuple[str, str, int], view: RestingView | None) -> None:
        exchange, symbol, order_id = key
        with self._lock:
            bucket = self._index.setdefault((exchange, symbol), {})
            if view is None:
                bucket.pop(order_id, None)
            else:
                bucket[order_id] = view

    def open_count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._index.values())

    # -- hot path ------------------------------------------------------------------
    def candidates(self, event: MarketEvent) -> list[int]:
        if isinstance(event, BookSnapshot):
            books.book_record(event)
        elif isinstance(event, TradeEvent):
            books.trade_record(event)
        else:
            return []
        key = (event.exchange, event.symbol)
        with self._lock:
            if self._first_event_ms is None:
                self._first_event_ms = event.ts_ms
            if event.ts_ms > self._marks.get(key, -1):
                self._marks[key] = event.ts_ms
            bucket = self._index.get(key)
            views = list(bucket.values()) if bucket else []
        return [view.order_id for view in views if may_fill(view, event)]

    def on_event(self, event: MarketEvent) -> None:
        """The registered listener: cheap, never raises."""
        try:
            if not isinstance(event, TradeEvent | BookSnapshot):
                return
            for order_id in self.candidates(event):
                self._queue.put((order_id, event))
            if self._threaded:
                self._ensure_worker()
        except Exception:  # listeners must never raise into the feed hub
            logger.exception("paper matcher failed on %s", type(event).__name__)

    # -- applying ----------------------------------------------------------------------
    def process_pending(self) -> int:
        """Apply queued matches (the worker thread's loop body; tests call it directly)."""
        done = 0
        while True:
            try:
                order_id, event = self._queue.get_nowait()
            except queue.Empty:
                return done
            try:
                order = resting_order_match(order_id=order_id, event=event)
            except Exception:  # one bad order must not stop the others
                logger.exception("paper matcher could not apply order %s", order_id)
                continue
            if order is not None:
                done += 1
                if not order.is_open:
                    self.update(key=(order.exchange, order.symbol, order.pk), view=None)
                else:
                    self.update(key=(order.exchange, order.symbol, order.pk), view=resting_view(order))

    def _ensure_worker(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="paper-matcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from django.db import close_old_connections

        from apps.portfolio import metrics

        while True:
            try:
                if not self._loaded:
                    self.start(now_ms=self._first_event_ms)
                    metrics.open_orders_set(self.open_count())
                elif time.monotonic() - self._last_sync > SYNC_SECONDS:
                    self.load()
                    self.checkpoint_flush()
                    metrics.open_orders_set(self.open_count())
                item = self._queue.get(timeout=SYNC_SECONDS)
                self._queue.put(item)
                self.process_pending()
            except queue.Empty:
                continue
            except Exception:
                logger.exception("paper matcher worker error")
                close_old_connections()
                time.sleep(0.5)


def _minute_stored(key: tuple[str, str], *, open_ms: int) -> bool:
    """Whether the 1m candle opening at ``open_ms``, or a later one, is stored."""
    exchange, symbol = key
    return candle_last_open_map(exchange=exchange, symbols=[symbol]).get((symbol, "1m"), -1) >= open_ms


MATCHER = Matcher()


def enable() -> None:
    """Register the process-wide matcher as a market event listener (feed processes) and
    attach it, so the order service's commits reach its index."""
    from apps.market.events import register_event_listener

    register_event_listener(MATCHER.on_event)
    resting_index.matcher_attach(MATCHER)
