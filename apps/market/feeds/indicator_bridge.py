"""The hub's hook into engineer "ind"'s incremental indicator engine (apps.market.indicators)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apps.market.events import KlineEvent
from apps.market.indicators.engine import IndicatorEngine

logger = logging.getLogger("apps.market.feeds")


def indicator_hook() -> Callable[[KlineEvent], Any]:
    """A callable fed every closed candle, returning JSON-safe indicator values. One engine
    per hub: a feed owns its states."""
    engine = IndicatorEngine()

    def hook(candle: KlineEvent) -> dict[str, Any]:
        return engine.update(candle.exchange, candle.symbol, candle.timeframe, candle).as_dict()

    return hook
