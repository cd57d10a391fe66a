"""Incremental indicator primitives (pure: no ORM, no pandas).

Each primitive takes one closed value per ``update`` in O(1) and returns its current value
or ``None`` while it is not yet meaningful. ``peek`` returns what ``update`` would return for
the same input without touching the state, which is how the still-forming candle is
previewed.

The arithmetic follows TA-Lib's C code operation by operation (seeds summed in order, then
divided; ``(x - prev) * k + prev`` for EMAs; ``(avg * (n - 1) + x) / n`` for Wilder), so the
results agree with TA-Lib to the last few bits, not just "closely".

Lookbacks (index of the first value, 0-based; the number of candles needed is one more):

=========  ==========================  ==================================================
indicator  TA-Lib lookback             seed / convergence
=========  ==========================  ==================================================
SMA(n)     n - 1                       exact from the first full window
EMA(n)     n - 1                       seeded with the SMA of the first n values
RSI(n)     n                           Wilder averages seeded with the mean of n changes
MACD       slow - 1 + signal - 1       fast EMA seeded on the last ``fast`` of the first
                                       ``slow`` closes (TA-Lib alignment); signal EMA seeded
                                       with the SMA of the first ``signal`` MACD values
BBANDS(n)  n - 1                       exact from the first full window (population std)
ATR(n)     n                           Wilder average seeded with the mean of TR[1..n]
=========  ==========================  ==================================================

EMA-type values depend on where the series starts: the seed's weight after m more candles
is (1 - alpha)^m. ``convergence_candles`` gives how many candles make that weight negligible,
which is what a warm-up from stored candles must read to reproduce full-history values.
"""

from __future__ import annotations

import math
from collections import deque


def ema_alpha(period: int) -> float:
    """TA-Lib's PER_TO_K: 2 / (period + 1)."""
    return 2.0 / (period + 1)


def convergence_candles(alpha: float, *, tolerance: float = 1e-9) -> int:
    """Candles after the seed until the seed's weight (1 - alpha)^m drops below ``tolerance``."""
    if alpha >= 1.0:
        return 0
    return math.ceil(math.log(tolerance) / math.log(1.0 - alpha))


# Below this fraction of E[(x - ref)^2] a variance from the running sums has lost more than
# ~6 of its 16 digits, so it is recomputed exactly from the window instead.
_CANCELLATION = 1e-6


def _check_period(name: str, period: int, minimum: int = 2) -> None:
    if not isinstance(period, int) or period < minimum:
        raise ValueError(f"{name} period must be an integer >= {minimum}, got {period!r}")


class Ema:
    """Exponential moving average seeded with the SMA of its first ``period`` inputs."""

    __slots__ = ("count", "k", "period", "seed_sum", "value")

    def __init__(self, period: int) -> None:
        _check_period("EMA", period)
        self.period = period
        self.k = ema_alpha(period)
        self.count = 0
        self.seed_sum = 0.0
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        value = self.value
        if value is not None:
            self.value = value = (x - value) * self.k + value
            return value
        self.count += 1
        self.seed_sum += x
        if self.count == self.period:
            self.value = self.seed_sum / self.period
        return self.value

    def peek(self, x: float) -> float | None:
        value = self.value
        if value is not None:
            return (x - value) * self.k + value
        if self.count + 1 == self.period:
            return (self.seed_sum + x) / self.period
        return None


class RollingWindow:
    """Sum and population variance over the last ``period`` values in O(1) per update.

    Plain running sums of x and x^2 lose precision two ways: drift (every add/subtract
    rounds) and cancellation (var = E[x^2] - E[x]^2 with prices far from zero). Both are
    avoided by keeping the sums of deviations from an anchor ``ref`` close to the data and
    re-anchoring to the newest value with an exact recompute every ``period`` updates
    (amortised O(1)). A window of equal prices then gives exactly 0, as TA-Lib does.
    """

    __slots__ = ("period", "ref", "s1", "s2", "since_anchor", "window")

    def __init__(self, period: int) -> None:
        _check_period("window", period)
        self.period = period
        self.window: deque[float] = deque()
        self.ref = 0.0
        self.s1 = 0.0
        self.s2 = 0.0
        self.since_anchor = 0

    def _sums_after(self, x: float) -> tuple[float, float]:
        window = self.window
        d = x - self.ref
        if len(window) < self.period:
            return self.s1 + d, self.s2 + d * d
        old = window[0] - self.ref
        return self.s1 + (d - old), self.s2 + (d * d - old * old)

    def _stats(self, sums: tuple[float, float], x: float, size: int) -> tuple[float, float] | None:
        if size < self.period:
            return None
        n = self.period
        m1 = sums[0] / n
        mean_sq = sums[1] / n
        var = mean_sq - m1 * m1
        if var <= _CANCELLATION * mean_sq:
            # The anchor is far from the data relative to its spread (a flat window, or a
            # jump since the last re-anchor): the difference above kept too few digits.
            return self._exact(x)
        return self.ref + m1, var

    def _exact(self, x: float) -> tuple[float, float]:
        """Two-pass mean and variance of the window with ``x`` pushed (O(period), rare)."""
        values = list(self.window)[1:] if len(self.window) == self.period else list(self.window)
        values.append(x)
        n = len(values)
        mean = math.fsum(values) / n
        return mean, math.fsum((v - mean) * (v - mean) for v in values) / n

    def update(self, x: float) -> tuple[float, float] | None:
        """Push ``x``; return (mean, population variance) once the window is full."""
        window = self.window
        if not window:
            self.ref = x
        sums = self._sums_after(x)
        stats = self._stats(sums, x, len(window) + 1)  # before the window changes, as peek
        if len(window) == self.period:
            window.popleft()
        window.append(x)
        self.s1, self.s2 = sums
        self.since_anchor += 1
        if self.since_anchor >= self.period:
            self._reanchor(x)
        return stats

    def peek(self, x: float) -> tuple[float, float] | None:
        return self._stats(self._sums_after(x), x, min(len(self.window) + 1, self.period))

    def _reanchor(self, ref: float) -> None:
        self.ref = ref
        s1 = s2 = 0.0
        for value in self.window:
            d = value - ref
            s1 += d
            s2 += d * d
        self.s1, self.s2, self.since_anchor = s1, s2, 0


class Rsi:
    """Wilder's RSI exactly as TA-Lib computes it (0 when there was no movement at all)."""

    __slots__ = ("count", "gain", "loss", "period", "prev")

    def __init__(self, period: int = 14) -> None:
        _check_period("RSI", period)
        self.period = period
        self.prev: float | None = None
        self.count = 0  # price changes seen
        self.gain = 0.0
        self.loss = 0.0

    def _next(self, x: float) -> tuple[float, float, float | None]:
        change = x - self.prev  # type: ignore[operator]
        gain, loss, n = self.gain, self.loss, self.period
        if self.count >= n:  # Wilder smoothing, in TA-Lib's operation order
            gain *= n - 1
            loss *= n - 1
        if change < 0:
            loss -= change
        else:
            gain += change
        if self.count + 1 < n:
            return gain, loss, None
        gain /= n
        loss /= n
        total = gain + loss
        return gain, loss, (100.0 * (gain / total) if total != 0.0 else 0.0)

    def update(self, x: float) -> float | None:
        if self.prev is None:
            self.prev = x
            return None
        self.gain, self.loss, value = self._next(x)
        self.prev = x
        self.count += 1
        return value

    def peek(self, x: float) -> float | None:
        if self.prev is None:
            return None
        return self._next(x)[2]


class Macd:
    """MACD line, signal and histogram with TA-Lib's alignment.

    TA-Lib computes both EMAs only over the range where the slow one exists, so the fast EMA
    is seeded with the SMA of closes[slow - fast .. slow - 1], not of the first ``fast``
    closes; the signal EMA is seeded with the SMA of the first ``signal`` MACD values. All
    three outputs start at index slow + signal - 2 (33 for 12/26/9).
    """

    __slots__ = ("count", "fast", "fast_skip", "signal", "slow")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        if slow < fast:  # TA-Lib swaps them
            fast, slow = slow, fast
        self.fast = Ema(fast)
        self.slow = Ema(slow)
        self.signal = Ema(signal)
        self.fast_skip = slow - fast
        self.count = 0

    def update(self, x: float) -> tuple[float, float, float] | None:
        self.count += 1
        slow = self.slow.update(x)
        fast = self.fast.update(x) if self.count > self.fast_skip else None
        if slow is None or fast is None:
            return None
        line = fast - slow
        signal = self.signal.update(line)
        if signal is None:
            return None
        return line, signal, line - signal

    def peek(self, x: float) -> tuple[float, float, float] | None:
        slow = self.slow.peek(x)
        fast = self.fast.peek(x) if self.count + 1 > self.fast_skip else None
        if slow is None or fast is None:
            return None
        line = fast - slow
        signal = self.signal.peek(line)
        if signal is None:
            return None
        return line, signal, line - signal


class Bollinger:
    """Bollinger Bands over an SMA with the population standard deviation (TA-Lib BBANDS)."""

    __slots__ = ("nbdev", "window")

    def __init__(self, period: int = 20, nbdev: float = 2.0) -> None:
        self.window = RollingWindow(period)
        self.nbdev = float(nbdev)

    def _bands(self, stats: tuple[float, float] | None) -> tuple[float, float, float] | None:
        if stats is None:
            return None
        middle, var = stats
        width = self.nbdev * math.sqrt(var)
        return middle + width, middle, middle - width

    def update(self, x: float) -> tuple[float, float, float] | None:
        return self._bands(self.window.update(x))

    def peek(self, x: float) -> tuple[float, float, float] | None:
        return self._bands(self.window.peek(x))


class Sma:
    __slots__ = ("window",)

    def __init__(self, period: int) -> None:
        self.window = RollingWindow(period)

    def update(self, x: float) -> float | None:
        stats = self.window.update(x)
        return None if stats is None else stats[0]

    def peek(self, x: float) -> float | None:
        stats = self.window.peek(x)
        return None if stats is None else stats[0]


class Atr:
    """Average True Range (Wilder), TA-Lib style: TR needs a previous close, so TR[0] does
    not exist; the first ATR (index ``period``) is the mean of TR[1..period]."""

    __slots__ = ("count", "period", "prev_close", "seed_sum", "value")

    def __init__(self, period: int = 14) -> None:
        _check_period("ATR", period, minimum=1)
        self.period = period
        self.prev_close: float | None = None
        self.count = 0  # true ranges seen
        self.seed_sum = 0.0
        self.value: float | None = None

    def _true_range(self, high: float, low: float) -> float:
        prev = self.prev_close
        return max(high - low, abs(high - prev), abs(low - prev))  # type: ignore[operator]

    def _next(self, tr: float) -> tuple[float, float | None]:
        n = self.period
        if self.value is not None:
            return self.seed_sum, ((self.value * (n - 1)) + tr) / n
        seed_sum = self.seed_sum + tr
        return seed_sum, (seed_sum / n if self.count + 1 == n else None)

    def update(self, high: float, low: float, close: float) -> float | None:
        if self.prev_close is None:
            self.prev_close = close
            return None
        self.seed_sum, self.value = self._next(self._true_range(high, low))
        self.count += 1
        self.prev_close = close
        return self.value

    def peek(self, high: float, low: float, close: float) -> float | None:
        if self.prev_close is None:
            return None
        return self._next(self._true_range(high, low))[1]
