"""Trend-following strategies: MACD crossover and moving-average crossover."""

from __future__ import annotations

from typing import Any

from apps.bots.strategies.base import HOLD, Bar, PositionView, Signal, Strategy
from apps.bots.strategies.params import Param
from apps.market.indicators.core import Ema, Macd, Sma, convergence_candles, ema_alpha


class MacdCrossover(Strategy):
    name = "macd_crossover"
    label = "MACD crossover"
    description = "Buy when the MACD line crosses above its signal line; sell when it crosses below."
    params = (
        Param("fast", "int", 12, "Fast EMA length.", min=2, max=200),
        Param("slow", "int", 26, "Slow EMA length.", min=3, max=500),
        Param("signal", "int", 9, "Signal EMA length.", min=2, max=200),
    )

    def __init__(self, **values: Any):
        super().__init__(**values)
        self._macd = Macd(values["fast"], values["slow"], values["signal"])
        self._prev_diff: float | None = None

    @classmethod
    def cross_check(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        if values["fast"] >= values["slow"]:
            return {"fast": ["Must be shorter than the slow length."]}
        return {}

    @property
    def warmup(self) -> int:
        tail = convergence_candles(ema_alpha(self.p["slow"]), tolerance=1e-6)
        return self.p["slow"] + self.p["signal"] + tail

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        out = self._macd.update(bar.close_f)
        if out is None:
            return HOLD
        diff = out[0] - out[1]
        prev, self._prev_diff = self._prev_diff, diff
        if prev is None:
            return HOLD
        if prev <= 0 < diff and position.quantity <= 0:
            return Signal("buy", f"MACD crossed above signal ({out[0]:.8g} > {out[1]:.8g})")
        if prev >= 0 > diff and position.quantity > 0:
            return Signal("sell", f"MACD crossed below signal ({out[0]:.8g} < {out[1]:.8g})")
        return HOLD


class MaCrossover(Strategy):
    name = "ma_crossover"
    label = "SMA/EMA crossover"
    description = "Buy when the fast average crosses above the slow one; sell on the opposite cross."
    params = (
        Param("fast", "int", 10, "Fast average length.", min=2, max=500),
        Param("slow", "int", 30, "Slow average length.", min=3, max=1000),
        Param("ma_type", "choice", "sma", "Average type.", choices=("sma", "ema"), label="MA type"),
    )

    def __init__(self, **values: Any):
        super().__init__(**values)
        kind = Sma if values["ma_type"] == "sma" else Ema
        self._fast = kind(values["fast"])
        self._slow = kind(values["slow"])
        self._prev_diff: float | None = None

    @classmethod
    def cross_check(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        if values["fast"] >= values["slow"]:
            return {"fast": ["Must be shorter than the slow length."]}
        return {}

    @property
    def warmup(self) -> int:
        tail = convergence_candles(ema_alpha(self.p["slow"]), tolerance=1e-6) if self.p["ma_type"] == "ema" else 0
        return self.p["slow"] + 1 + tail

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        fast = self._fast.update(bar.close_f)
        slow = self._slow.update(bar.close_f)
        if fast is None or slow is None:
            return HOLD
        diff = fast - slow
        prev, self._prev_diff = self._prev_diff, diff
        if prev is None:
            return HOLD
        kind = self.p["ma_type"].upper()
        if prev <= 0 < diff and position.quantity <= 0:
            return Signal("buy", f"{kind}{self.p['fast']} crossed above {kind}{self.p['slow']}")
        if prev >= 0 > diff and position.quantity > 0:
            return Signal("sell", f"{kind}{self.p['fast']} crossed below {kind}{self.p['slow']}")
        return HOLD
