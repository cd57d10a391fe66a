"""The market hub of one exchange feed: normalized events in, state + closed candles +
coalesced cache/push batches out (pure: no ORM, no I/O; the runner does the I/O).

Hot path: ``handle(event)``. Everything per-event is O(1) and allocation-light; the work
that scales with subscribers (cache writes, channel-layer pushes, forming candles of the
larger timeframes) happens in ``flush()`` a few times a second, for dirty symbols only.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
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
        self._dirty: set[str] = set()
        self._last_push: dict[str, float] = {}
        self._push_interval = 1.0 / push_hz
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
            self._dirty.add(c.symbol)

    # -- periodic ---------------------------------------------------------------------------
    def flush(self, now: float) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """Cache entries for every dirty symbol, and at most one push per symbol per push
        interval (a symbol that is not due stays dirty for the next flush)."""
        cache_items: dict[str, Any] = {}
        pushes: list[tuple[str, dict[str, Any]]] = []
        keep: set[str] = set()
        for symbol in self._dirty:
            forming = {tf: self.aggregator.forming(symbol, tf) for tf in TIMEFRAMES}
            cache_items.update(self._cache_entries(symbol, forming))
            if now - self._last_push.get(symbol, 0.0) < self._push_interval:
                keep.add(symbol)
                continue
            self._last_push[symbol] = now
            pushes.append((group_name(self.exchange, symbol), self._push_message(symbol, forming)))
        self._dirty = keep
        return cache_items, pushes

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
