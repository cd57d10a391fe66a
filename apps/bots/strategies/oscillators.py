"""Mean-reversion strategies: RSI and Bollinger Bands."""

from __future__ import annotations

from typing import Any

from apps.bots.strategies.base import HOLD, Bar, PositionView, Signal, Strategy
from apps.bots.strategies.params import Param
from apps.market.indicators.core import Bollinger, Rsi, convergence_candles


class RsiMeanReversion(Strategy):
    name = "rsi_mean_reversion"
    label = "RSI mean reversion"
    description = "Buy when RSI falls below the oversold level; sell when it rises above overbought."
    params = (
        Param("period", "int", 14, "RSI look-back in candles.", min=2, max=200),
        Param("oversold", "float", 30.0, "Buy when RSI is below this level.", min=1, max=99),
        Param("overbought", "float", 70.0, "Sell when RSI is above this level.", min=1, max=99),
    )

    def __init__(self, **values: Any):
        super().__init__(**values)
        self._rsi = Rsi(values["period"])
        self._oversold = values["oversold"]
        self._overbought = values["overbought"]

    @classmethod
    def cross_check(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        if values["oversold"] >= values["overbought"]:
            return {"oversold": ["Must be below the overbought level."]}
        return {}

    @property
    def warmup(self) -> int:
        # Wilder smoothing remembers its seed: replay until the seed's weight is negligible.
        return self.p["period"] + 1 + convergence_candles(1.0 / self.p["period"], tolerance=1e-6)

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        rsi = self._rsi.update(bar.close_f)
        # TA-Lib reports 0 for a window without any movement; that is not "oversold".
        if rsi is None or (self._rsi.gain == 0.0 and self._rsi.loss == 0.0):
            return HOLD
        if rsi < self._oversold and position.quantity <= 0:
            return Signal("buy", f"RSI {rsi:.2f} < {self._oversold:g}")
        if rsi > self._overbought and position.quantity > 0:
            return Signal("sell", f"RSI {rsi:.2f} > {self._overbought:g}")
        return HOLD


class BollingerReversion(Strategy):
    name = "bollinger_reversion"
    label = "Bollinger Band reversion"
    description = "Buy a close below the lower band; sell at the middle or upper band."
    params = (
        Param("period", "int", 20, "Moving-average length in candles.", min=2, max=500),
        Param("stddev", "float", 2.0, "Band width in standard deviations.", min=0.1, max=10),
        Param("exit_band", "choice", "middle", "Sell when the close reaches this band.", choices=("middle", "upper")),
    )

    def __init__(self, **values: Any):
        super().__init__(**values)
        self._bb = Bollinger(values["period"], values["stddev"])
        self._exit_upper = values["exit_band"] == "upper"

    @property
    def warmup(self) -> int:
        return self.p["period"]

    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        bands = self._bb.update(bar.close_f)
        if bands is None:
            return HOLD
        upper, middle, lower = bands
        close = bar.close_f
        if position.quantity <= 0:
            if close < lower:
                return Signal("buy", f"close {close:.8g} < lower band {lower:.8g}")
            return HOLD
        target = upper if self._exit_upper else middle
        if close >= target:
            return Signal("sell", f"close {close:.8g} >= {'upper' if self._exit_upper else 'middle'} band {target:.8g}")
        return HOLD
