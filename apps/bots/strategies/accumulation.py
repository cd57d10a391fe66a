"""Accumulation strategies: DCA (periodic buys) and a price grid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.bots.strategies.base import HOLD, Bar, PositionView, Signal, Strategy
from apps.bots.strategies.params import Param


class Dca(Strategy):
    name = "dca"
    label = "DCA (periodic buys)"
    description = "Buy a fixed amount every N candles; exits come from the risk settings (take-profit)."
    params = (
        Param("interval_candles", "int", 24, "Buy once every this many candles.", min=1, max=10_000),
        Param(
            "max_buys", "int", 0, "Stop buying after this many buys in one position (0 = no limit).", min=0, max=10_000
        ),
    )

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        # Aligned to the epoch, not to when the bot started, so a restarted bot, the live
        # runner and the backtester all pick the same candles.
        index = bar.open_time_ms // self.timeframe_ms
        if index % self.p["interval_candles"]:
            return HOLD
        limit = self.p["max_buys"]
        if limit and position.entries >= limit:
            return HOLD
        return Signal("buy", f"DCA buy every {self.p['interval_candles']} candles")


class Grid(Strategy):
    name = "grid"
    label = "Grid"
    description = "Buy one slice each time the close falls through a grid line, sell one when it rises through one."
    params = (
        Param("lower", "decimal", Decimal("0"), "Lowest grid price.", min=Decimal("0")),
        Param("upper", "decimal", Decimal("0"), "Highest grid price.", min=Decimal("0")),
        Param("levels", "int", 10, "Number of grid intervals between lower and upper.", min=2, max=200),
    )

    def __init__(self, **values: Any):
        super().__init__(**values)
        self._lower = float(values["lower"])
        self._step = float(values["upper"] - values["lower"]) / values["levels"]
        self._prev_level: int | None = None

    @classmethod
    def cross_check(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        if values["upper"] <= values["lower"]:
            return {"upper": ["Must be above the lower price."]}
        return {}

    @property
    def warmup(self) -> int:
        return 1

    def _level(self, price: float) -> int:
        return max(-1, min(self.p["levels"], int((price - self._lower) // self._step)))

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        level = self._level(bar.close_f)
        prev, self._prev_level = self._prev_level, level
        if prev is None or level == prev:
            return HOLD
        if level < prev and level < self.p["levels"]:
            return Signal("buy", f"close fell to grid level {level}")
        if level > prev and position.quantity > 0 and position.entries > 0:
            return Signal("sell", f"close rose to grid level {level}", fraction=1.0 / position.entries)
        return HOLD
