"""The paper order matcher: resting limit and stop orders meet every trade/book event.

It runs inside the feed process, registered with ``apps.market.events.register_event_listener``.
The listener is on the hub's hot path (possibly inside the event loop), so it only does an
in-memory check against an index of resting orders per (exchange, symbol); orders that the
event may fill are queued and a worker thread applies them through the service, one
transaction per order (``order_match_event``), which re-checks everything under lock.

The index is loaded from the database on start (open orders survive restarts) and refreshed
every ``SYNC_SECONDS`` for orders placed by other processes; same-process placements are
added on commit.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.market.events import BookSnapshot, MarketEvent, TradeEvent
from apps.portfolio import books
from apps.portfolio import fills as engine

logger = logging.getLogger(__name__)

SYNC_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class RestingView:
    """What the cheap check needs to know about one resting order."""

    order_id: int
    side: str
    order_type: str
    price: Decimal | None
    stop_price: Decimal | None
    triggered: bool


def resting_view(order: Any) -> RestingView:
    return RestingView(
        order_id=order.pk,
        side=order.side,
        order_type=order.order_type,
        price=order.price,
        stop_price=order.stop_price,
        triggered=order.triggered,
    )


def may_fill(view: RestingView, event: MarketEvent) -> bool:
    """Could this event change this order? False positives only cost a transaction."""
    if view.order_type in engine.STOP_TYPES and not view.triggered:
        return (
            isinstance(event, TradeEvent)
            and view.stop_price is not None
            and engine.stop_triggered(
                order_type=view.order_type, side=view.side, stop_price=view.stop_price, trade_price=event.price
            )
        )
    if view.order_type in engine.STOP_MARKET_TYPES:
        return isinstance(event, TradeEvent | BookSnapshot)  # triggered, still filling
    if not isinstance(event, TradeEvent) or view.price is None:
        return False
    return event.price < view.price if view.side == "buy" else event.price > view.price


class Matcher:
    def __init__(self, *, threaded: bool = True) -> None:
        self._threaded = threaded
        self._index: dict[tuple[str, str], dict[int, RestingView]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, TradeEvent | BookSnapshot]] = queue.Queue()
        self._loaded = False
        self._last_sync = 0.0
        self._thread: threading.Thread | None = None

    # -- index -------------------------------------------------------------------
    def load(self) -> int:
        """Rebuild the index from the database (start-up and periodic sync)."""
        from apps.portfolio.services.matching import resting_orders_open

        fresh: dict[tuple[str, str], dict[int, RestingView]] = {}
        for order in resting_orders_open():
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
        with self._lock:
            bucket = self._index.get((event.exchange, event.symbol))
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
        from apps.portfolio.services.matching import order_match_event

        done = 0
        while True:
            try:
                order_id, event = self._queue.get_nowait()
            except queue.Empty:
                return done
            try:
                order = order_match_event(order_id=order_id, event=event)
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
                if not self._loaded or time.monotonic() - self._last_sync > SYNC_SECONDS:
                    self.load()
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


MATCHER = Matcher()
_enabled = False


def enable() -> None:
    """Register the process-wide matcher as a market event listener (feed processes)."""
    global _enabled
    from apps.market.events import register_event_listener

    register_event_listener(MATCHER.on_event)
    _enabled = True


def index_update(*, key: tuple[str, str, int], view: RestingView | None) -> None:
    """Called on commit by the order service; a no-op outside a matcher process."""
    if _enabled:
        MATCHER.update(key=key, view=view)
