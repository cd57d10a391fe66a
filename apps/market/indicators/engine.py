"""Per-(exchange, symbol, timeframe) indicator state over closed candles (pure: no ORM).

Gap policy: indicators run over the candles that exist, in time order. A missing candle
(no trades, or the recorder missed it) is *not* filled with a synthetic one, which is
exactly what TA-Lib and pandas-ta do when handed the same rows; a 14-period RSI after a gap
therefore spans more than 14 intervals of wall time. ``fill_gaps`` exists for callers that
prefer the other convention (flat candles at the previous close, zero volume). Candles at
or before the last applied open time are ignored, so a replayed or re-delivered closed
candle cannot be counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple, Protocol

from apps.market.indicators.core import Atr, Bollinger, Ema, Macd, Rsi, Sma, convergence_candles, ema_alpha


class CandleLike(Protocol):
    """What the engine reads from a candle (KlineEvent and Bar both qualify)."""

    @property
    def open_time_ms(self) -> int: ...
    @property
    def high(self) -> Any: ...
    @property
    def low(self) -> Any: ...
    @property
    def close(self) -> Any: ...


class Bar(NamedTuple):
    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class IndicatorParams:
    rsi_period: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    bb_period: int = 20
    bb_nbdev: float = 2.0
    sma_period: int = 20
    ema_period: int = 20
    atr_period: int = 14

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> IndicatorParams:
        """Build from query/JSON data, ignoring unknown keys; bad values raise ValueError."""
        if not data:
            return cls()
        kwargs: dict[str, Any] = {}
        for field in fields(cls):
            if field.name in data and data[field.name] not in (None, ""):
                cast = float if field.name == "bb_nbdev" else int
                kwargs[field.name] = cast(data[field.name])
        params = cls(**kwargs)
        params.validate()
        return params

    def validate(self) -> None:
        """Build a throwaway state: the primitives reject impossible periods."""
        IndicatorState(self)
        if not self.bb_nbdev > 0:
            raise ValueError("bb_nbdev must be > 0")

    def lookbacks(self) -> dict[str, int]:
        """TA-Lib lookback per indicator: the 0-based index of its first value."""
        fast, slow = sorted((self.macd_fast, self.macd_slow))
        return {
            "rsi": self.rsi_period,
            "macd": slow - 1 + self.macd_signal - 1,
            "bb": self.bb_period - 1,
            "sma": self.sma_period - 1,
            "ema": self.ema_period - 1,
            "atr": self.atr_period,
        }

    def warmup_candles(self, *, tolerance: float = 1e-9) -> int:
        """Candles a warm-up must read so every value matches a full-history computation
        to about ``tolerance`` (relative): the lookback plus the candles the EMA-type seeds
        need to fade below ``tolerance``."""
        lookbacks = self.lookbacks()
        slow = max(self.macd_fast, self.macd_slow)
        fading = {
            "rsi": convergence_candles(1.0 / self.rsi_period, tolerance=tolerance),
            "macd": convergence_candles(ema_alpha(slow), tolerance=tolerance),
            "ema": convergence_candles(ema_alpha(self.ema_period), tolerance=tolerance),
            "atr": convergence_candles(1.0 / self.atr_period, tolerance=tolerance),
        }
        return max(lookbacks[name] + 1 + fading.get(name, 0) for name in lookbacks)


@dataclass(frozen=True, slots=True)
class IndicatorValues:
    """Indicator values after one candle; ``None`` while an indicator is warming up."""

    open_time_ms: int
    rsi: float | None = None
    macd: float | None = None
    macd_signal: float | None = None
    macd_hist: float | None = None
    bb_upper: float | None = None
    bb_middle: float | None = None
    bb_lower: float | None = None
    sma: float | None = None
    ema: float | None = None
    atr: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


MAIN_COLUMNS = ("rsi", "macd", "macd_signal", "macd_hist", "bb_upper", "bb_middle", "bb_lower")
ALL_COLUMNS = (*MAIN_COLUMNS, "sma", "ema", "atr")


class IndicatorState:
    """All indicators of one (exchange, symbol, timeframe). Not thread-safe: one feed owns it."""

    __slots__ = ("_atr", "_bb", "_ema", "_macd", "_rsi", "_sma", "count", "last_open_time_ms", "latest", "params")

    def __init__(self, params: IndicatorParams | None = None) -> None:
        self.params = params = params or IndicatorParams()
        self._rsi = Rsi(params.rsi_period)
        self._macd = Macd(params.macd_fast, params.macd_slow, params.macd_signal)
        self._bb = Bollinger(params.bb_period, params.bb_nbdev)
        self._sma = Sma(params.sma_period)
        self._ema = Ema(params.ema_period)
        self._atr = Atr(params.atr_period)
        self.count = 0
        self.last_open_time_ms: int | None = None
        self.latest: IndicatorValues | None = None

    def _is_stale(self, open_time_ms: int) -> bool:
        return self.last_open_time_ms is not None and open_time_ms <= self.last_open_time_ms

    def update(self, candle: CandleLike) -> IndicatorValues:
        """Apply a closed candle (O(1)); a candle at or before the last one is ignored."""
        open_time_ms = int(candle.open_time_ms)
        if self._is_stale(open_time_ms):
            return self.latest  # type: ignore[return-value]  # non-None once a candle was applied
        high, low, close = float(candle.high), float(candle.low), float(candle.close)
        values = _values(
            open_time_ms,
            self._rsi.update(close),
            self._macd.update(close),
            self._bb.update(close),
            self._sma.update(close),
            self._ema.update(close),
            self._atr.update(high, low, close),
        )
        self.count += 1
        self.last_open_time_ms = open_time_ms
        self.latest = values
        return values

    def preview(self, candle: CandleLike) -> IndicatorValues:
        """Values as if the still-forming ``candle`` closed now; the state is not changed."""
        open_time_ms = int(candle.open_time_ms)
        if self._is_stale(open_time_ms):
            return self.latest  # type: ignore[return-value]
        high, low, close = float(candle.high), float(candle.low), float(candle.close)
        return _values(
            open_time_ms,
            self._rsi.peek(close),
            self._macd.peek(close),
            self._bb.peek(close),
            self._sma.peek(close),
            self._ema.peek(close),
            self._atr.peek(high, low, close),
        )

    def run(self, candles: Iterable[CandleLike]) -> Iterator[IndicatorValues]:
        for candle in candles:
            yield self.update(candle)


def _values(open_time_ms: int, rsi, macd, bb, sma, ema, atr) -> IndicatorValues:  # type: ignore[no-untyped-def]
    macd_line, macd_signal, macd_hist = macd if macd is not None else (None, None, None)
    bb_upper, bb_middle, bb_lower = bb if bb is not None else (None, None, None)
    return IndicatorValues(
        open_time_ms, rsi, macd_line, macd_signal, macd_hist, bb_upper, bb_middle, bb_lower, sma, ema, atr
    )


StateKey = tuple[str, str, str]


class IndicatorEngine:
    """Indicator states of many (exchange, symbol, timeframe) keys, created on first use."""

    def __init__(self, params: IndicatorParams | None = None) -> None:
        self.params = params or IndicatorParams()
        self._states: dict[StateKey, IndicatorState] = {}

    def state(self, exchange: str, symbol: str, timeframe: str) -> IndicatorState:
        key = (exchange, symbol, timeframe)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = IndicatorState(self.params)
        return state

    def install(self, exchange: str, symbol: str, timeframe: str, state: IndicatorState) -> None:
        """Replace a key's state, e.g. with one rebuilt from stored candles."""
        self._states[(exchange, symbol, timeframe)] = state

    def update(self, exchange: str, symbol: str, timeframe: str, candle: CandleLike) -> IndicatorValues:
        return self.state(exchange, symbol, timeframe).update(candle)

    def preview(self, exchange: str, symbol: str, timeframe: str, candle: CandleLike) -> IndicatorValues:
        return self.state(exchange, symbol, timeframe).preview(candle)

    def keys(self) -> list[StateKey]:
        return list(self._states)


def fill_gaps(bars: Iterable[Bar], *, interval_ms: int) -> list[Bar]:
    """The optional other gap convention: insert a flat candle at the previous close with
    zero volume for every missing interval. Not applied by the engine itself."""
    filled: list[Bar] = []
    for bar in bars:
        if filled:
            prev = filled[-1]
            t = prev.open_time_ms + interval_ms
            while t < bar.open_time_ms:
                c = prev.close
                filled.append(Bar(t, c, c, c, c, 0.0))
                t += interval_ms
        filled.append(bar)
    return filled
