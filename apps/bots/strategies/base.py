"""The strategy interface (pure: no ORM, no I/O).

A strategy object is built from validated parameters and fed closed candles one at a time,
oldest first. It keeps its own incremental indicator state, so the live runner (one candle
per Celery task, state rebuilt from the recent candles) and the backtester (thousands of
candles in a loop) run exactly the same code. It answers each candle with a ``Signal``;
sizing, risk exits and cooldowns are applied afterwards by ``apps.bots.risk``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Literal

from apps.bots.strategies.params import Param, ParamsRuleBroken, validate_params

Action = Literal["buy", "sell", "hold"]


@dataclass(frozen=True, slots=True)
class Bar:
    """A closed candle. Decimal prices for fills; ``close_f`` is the float used by indicators."""

    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_f: float

    @classmethod
    def of(cls, open_time_ms: int, open_: Any, high: Any, low: Any, close: Any, volume: Any = "0") -> Bar:
        c = Decimal(str(close))
        return cls(
            int(open_time_ms),
            Decimal(str(open_)),
            Decimal(str(high)),
            Decimal(str(low)),
            c,
            Decimal(str(volume)),
            float(c),
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """What the strategy wants after one candle.

    ``fraction`` applies to sells: the share of the open position to sell (grid levels sell
    one slice, the others sell everything)."""

    action: Action
    reason: str = ""
    fraction: float = 1.0


HOLD = Signal("hold", "")


@dataclass(slots=True)
class PositionView:
    """What the strategy may know about the bot's position (read-only by convention)."""

    quantity: Decimal = Decimal("0")
    entries: int = 0  # buys since the position was last flat

    @property
    def is_open(self) -> bool:
        return self.quantity > 0


class Strategy(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    # Candle length in ms; set by ``build`` (DCA aligns its buys to it).
    timeframe_ms: int = 60_000

    def __init__(self, **values: Any):
        self.p = values

    @classmethod
    def clean(cls, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate raw parameters: field checks from the declaration, then cross-field rules."""
        values = validate_params(cls.params, data)
        errors = cls.cross_check(values)
        if errors:
            raise ParamsRuleBroken(errors)
        return values

    @classmethod
    def cross_check(cls, values: dict[str, Any]) -> dict[str, list[str]]:
        """Rules between parameters (e.g. fast < slow). Override; return field errors."""
        return {}

    @classmethod
    def build(cls, data: Mapping[str, Any] | None, *, timeframe_ms: int = 60_000) -> Strategy:
        strategy = cls(**cls.clean(data))
        strategy.timeframe_ms = timeframe_ms
        return strategy

    @property
    def warmup(self) -> int:
        """Candles needed before the first non-hold signal (how much history to replay)."""
        return 0

    @abstractmethod
    def on_candle(self, bar: Bar, position: PositionView) -> Signal:
        """Update indicator state with ``bar`` and return the signal for it."""
