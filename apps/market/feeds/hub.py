"""The market hub of one exchange feed: normalized events in, state + closed candles +
coalesced cache/push batches out (pure: no ORM, no I/O; the runner does the I/O).

Hot path: ``handle(event)``. Everything per-event is O(1) and allocation-light; the work
that scales with subscribers happens a few times a second, for dirty symbols only, on two
cadences driven by the runner:

- ``flush_cache()`` every cache flush (``MARKET_CACHE_FLUSH_MS``): cache entries of every
  symbol changed since the last flush;
- ``pushes_due(now)`` on every push tick (``push_next_at(now)``): the channel-layer pushes.

Push scheduling. The push interval (``1 / push_hz``) is cut into ticks, one per symbol (but
at least ``min_push_tick_s`` apart), and each symbol owns one tick's slot; on each tick only
the symbols of that slot are pushed (if dirty). Pushing every due symbol in the same flush
made every symbol fall due together, so each push round left as one burst of (symbols x
subscribers) frames and the last frames waited behind the first (docs/PERFORMANCE.md,
WebSocket fan-out); slots spread the same frames evenly over the interval. Guarantees: at most one push per symbol per slot occurrence
(once per push interval); a symbol dirty at time t is pushed by its next slot, within one
push interval; closed candles and new trades accumulate until that push (nothing dropped).
Ticks sit on a grid of the monotonic clock (offset by ``push_phase`` of a tick), so two feeds
with different phases interleave instead of pushing at the same instants.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from apps.market.aggregator import CandleAggregator
from apps.market.cache import cache_key
from apps.market.events import BookSnapshot, KlineEvent, MarketEvent, TickerEvent, TradeEvent, event_listeners
from apps.market.feeds.symbols import TIMEFRAMES
from apps.market.realtime import group_name, market_update_message

logger = logging.getLogger("apps.market.feeds")

ClosedSink = Callable[[list[KlineEvent]], None]
IndicatorHook = Callable[[KlineEvent], Any]


class FeedHub:
    def __init__(
        self,
        exchange: str,
        *,
        candle_source: str = "exchange",
        closed_sink: ClosedSink | None = None,
        indicator_hook: IndicatorHook | None = None,
        recent_trades: int = 50,
        push_hz: float = 4.0,
        symbols: Sequence[str] = (),
        push_phase: float = 0.0,
        min_push_tick_s: float = 0.02,
    ):
        # candle_source "exchange": closed candles come from the exchange (kline x=true, REST);
        # "trades": the aggregator's own closes are final (replay, bench).
        self.exchange = exchange
        self.candle_source = candle_source
        self.closed_sink = closed_sink
        self.indicator_hook = indicator_hook
        self.aggregator = CandleAggregator(exchange)
        self.books: dict[str, BookSnapshot] = {}
        self.tickers: dict[str, TickerEvent] = {}
        self.trades: dict[str, deque[TradeEvent]] = {}
        self._recent_n = recent_trades
        self._new_trades: dict[str, list[TradeEvent]] = {}
        self._new_closed: dict[str, list[KlineEvent]] = {}
        self._indicators: dict[tuple[str, str], Any] = {}
        self._dirty: set[str] = set()  # changed since the last cache flush
        self._dirty_push: set[str] = set()  # changed since the symbol's last push
        self._push_interval = 1.0 / push_hz
        # One slot per symbol, but ticks no finer than min_push_tick_s: waking the loop every
        # couple of milliseconds for a large symbol list would cost more than the bursts.
        # Without a symbol list (bench/ingest.py, tests) there is one slot: every dirty symbol
        # is pushed once per interval, on the interval's boundary.
        self._push_slots = max(1, min(len(symbols), int(self._push_interval / min_push_tick_s)))
        self._push_tick_s = self._push_interval / self._push_slots
        self._push_offset = (push_phase % 1.0) * self._push_tick_s
        self._slot: dict[str, int] = {}
        for symbol in symbols:
            self._slot_of(symbol)
        self._push_tick_done: int | None = None  # the last tick pushes_due handled
        self.clock_ms = 0  # the exchange's clock, as seen in event timestamps
        self.messages = 0
        self.malformed = 0

    # -- hot path -------------------------------------------------------------------------
    def handle(self, event: MarketEvent) -> None:
        self.messages += 1
        symbol = event.symbol
        if type(event) is TradeEvent:
            self._trade(event)
        elif type(event) is BookSnapshot:
            self.books[symbol] = event
        elif type(event) is KlineEvent:
            self._kline(event)
        elif type(event) is TickerEvent:
            self.tickers[symbol] = event
        if event.ts_ms > self.clock_ms:
            self.clock_ms = event.ts_ms
        self._dirty.add(symbol)
        self._dirty_push.add(symbol)
        for listener in event_listeners():
            try:
                listener(event)
            except Exception:  # a listener must never stop the feed
                logger.exception("market event listener %r failed", listener)

    def _trade(self, t: TradeEvent) -> None:
        closed = self.aggregator.add_trade(t.symbol, t.ts_ms, t.price, t.quantity)
        recent = self.trades.get(t.symbol)
        if recent is None:
            recent = self.trades[t.symbol] = deque(maxlen=self._recent_n)
        recent.append(t)
        new = self._new_trades.get(t.symbol)
        if new is None:
            self._new_trades[t.symbol] = [t]
        elif len(new) < 20:
            new.append(t)
        if closed and self.candle_source == "trades":
            self.candles_closed(closed)

    def _kline(self, k: KlineEvent) -> None:
        if k.closed:
            if self.candle_source == "exchange":
                self.candles_closed([k])
        else:
            self.aggregator.of(k.symbol).seed(k)

    def candles_closed(self, candles: list[KlineEvent]) -> None:
        """Final candles (from the stream, REST backfill or the aggregator): persist, feed the
        indicators, push."""
        if self.closed_sink is not None:
            self.closed_sink(candles)
        for c in candles:
            if self.indicator_hook is not None:
                try:
                    self._indicators[(c.symbol, c.timeframe)] = self.indicator_hook(c)
                except Exception:
                    logger.exception("indicator hook failed on %s %s", c.symbol, c.timeframe)
            self._new_closed.setdefault(c.symbol, []).append(c)
            self.mark_dirty(c.symbol)

    def indicators_latest(self, symbol: str, timeframe: str) -> Any:
        """The indicator values the next push of ``symbol`` carries for ``timeframe``."""
        return self._indicators.get((symbol, timeframe))

    def indicators_set(self, symbol: str, timeframe: str, values: Any) -> None:
        """Values rebuilt from stored candles (``indicator_bridge``): pushed with the next update."""
        if values is not None:
            self._indicators[(symbol, timeframe)] = values
            self.mark_dirty(symbol)

    def mark_dirty(self, symbol: str) -> None:
        """State of ``symbol`` changed outside ``handle`` (e.g. a polled ticker): cache and push it."""
        self._dirty.add(symbol)
        self._dirty_push.add(symbol)

    # -- periodic ---------------------------------------------------------------------------
    def flush_cache(self) -> dict[str, Any]:
        """Cache entries for every symbol changed since the last call."""
        cache_items: dict[str, Any] = {}
        for symbol in self._dirty:
            cache_items.update(self._cache_entries(symbol, self._forming(symbol)))
        self._dirty = set()
        return cache_items

    def push_next_at(self, now: float) -> float:
        """The start of the first push tick after ``now`` (same clock as ``pushes_due``)."""
        return (self._tick_of(now) + 1) * self._push_tick_s + self._push_offset

    def pushes_due(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """Pushes for the dirty symbols whose slot came up in the ticks since the last call.

        Ticks are counted, not sampled: a late call (busy loop) covers every tick it missed, so
        no slot is skipped and no symbol starved; each slot still counts once per occurrence."""
        tick = self._tick_of(now)
        last = tick - 1 if self._push_tick_done is None else self._push_tick_done
        if tick <= last:
            return []
        self._push_tick_done = tick
        slots = self._push_slots
        due = None if tick - last >= slots else {t % slots for t in range(last + 1, tick + 1)}
        pushes: list[tuple[str, dict[str, Any]]] = []
        for symbol in [s for s in self._dirty_push if due is None or self._slot_of(s) in due]:
            self._dirty_push.discard(symbol)
            pushes.append((group_name(self.exchange, symbol), self._push_message(symbol, self._forming(symbol))))
        return pushes

    def flush(self, now: float) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """Both cadences at once, for callers with one clock (bench/ingest.py): the cache
        entries, and the pushes due at ``now``."""
        return self.flush_cache(), self.pushes_due(now)

    def _tick_of(self, now: float) -> int:
        # The epsilon keeps a call made exactly at push_next_at() from rounding down a tick.
        return math.floor((now - self._push_offset) / self._push_tick_s + 1e-9)

    def _slot_of(self, symbol: str) -> int:
        slot = self._slot.get(symbol)
        if slot is None:
            # Symbols not given up front take the next slot round-robin, so slots stay even.
            slot = self._slot[symbol] = len(self._slot) % self._push_slots
        return slot

    def _forming(self, symbol: str) -> dict[str, KlineEvent | None]:
        return {tf: self.aggregator.forming(symbol, tf) for tf in TIMEFRAMES}

    def _cache_entries(self, symbol: str, forming: dict[str, KlineEvent | None]) -> dict[str, Any]:
        ex = self.exchange
        items: dict[str, Any] = {}
        if symbol in self.books:
            items[cache_key(ex, symbol, "book")] = self.books[symbol]
        if symbol in self.tickers:
            items[cache_key(ex, symbol, "ticker")] = self.tickers[symbol]
        if symbol in self.trades:
            items[cache_key(ex, symbol, "trades")] = list(self.trades[symbol])
        for tf, candle in forming.items():
            if candle is not None:
                items[cache_key(ex, symbol, f"candle:{tf}")] = candle
        return items

    def _push_message(self, symbol: str, forming: dict[str, KlineEvent | None]) -> dict[str, Any]:
        return market_update_message(
            exchange=self.exchange,
            symbol=symbol,
            ticker=self.tickers.get(symbol),
            book=self.books.get(symbol),
            forming=forming,
            closed=self._new_closed.pop(symbol, []),
            trades=self._new_trades.pop(symbol, []),
            indicators={tf: v for (s, tf), v in self._indicators.items() if s == symbol and v is not None},
        )

    def reset(self) -> None:
        """After a reconnect: drop state that may be stale (it is re-seeded from the exchange)."""
        self.books.clear()
        self.tickers.clear()
        self.aggregator.reset()
