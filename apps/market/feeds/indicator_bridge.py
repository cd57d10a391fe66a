"""A feed's incremental indicator engine (apps.market.indicators): the single source of the
live indicator values that the feed pushes (and the chart draws).

Its state per (symbol, timeframe) is rebuilt from stored candles whenever the REST fill
stored candles for that key (at start, after a reconnect or a gap), so the values equal a
full-history computation (TA-Lib's, and the chart history's pandas-ta batch) from the first
push on, and no candle the stream missed is skipped. Between fills, every streamed close
updates the state in order.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from apps.market.events import KlineEvent
from apps.market.indicators.engine import IndicatorEngine, IndicatorParams, IndicatorState

logger = logging.getLogger("apps.market.feeds")

Key = tuple[str, str]  # (symbol, timeframe)

# Streamed closes remembered per key: those a rebuild from the database may not see yet
# (the flush stores them a little later), replayed onto the rebuilt state.
_RECENT = 16


class FeedIndicators:
    """Loop-thread object (one feed owns it); ``state_build`` is the DB-thread half."""

    def __init__(self, exchange: str, params: IndicatorParams | None = None) -> None:
        self.exchange = exchange
        self.engine = IndicatorEngine(params)
        self.params = self.engine.params
        self._recent: dict[Key, deque[KlineEvent]] = {}

    def __call__(self, candle: KlineEvent) -> dict[str, Any]:
        """A final closed candle: the values after it (the hub's indicator hook)."""
        key = (candle.symbol, candle.timeframe)
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque(maxlen=_RECENT)
        recent.append(candle)
        return self.engine.update(self.exchange, candle.symbol, candle.timeframe, candle).as_dict()

    def install(self, symbol: str, timeframe: str, state: IndicatorState) -> dict[str, Any] | None:
        """Use ``state`` (rebuilt from stored candles) for this key, after replaying the
        streamed closes newer than its last candle; returns the latest values."""
        for candle in self._recent.get((symbol, timeframe), ()):
            if state.last_open_time_ms is None or candle.open_time_ms > state.last_open_time_ms:
                state.update(candle)
        self.engine.install(self.exchange, symbol, timeframe, state)
        return state.latest.as_dict() if state.latest is not None else None


def indicator_state_build(*, exchange: str, symbol: str, timeframe: str, params: IndicatorParams) -> IndicatorState:
    """DB thread: one key's state from the latest ``params.warmup_candles()`` stored candles."""
    from apps.market.indicators.services import engine_warm_up

    return engine_warm_up(exchange=exchange, symbol=symbol, timeframe=timeframe, params=params)
