"""Thin markets (pure): symbols that trade a few times an hour, as quiet pairs do.

On a thin market many minutes have no trade. Binance still reports such a minute, as a
zero-volume kline flat at the previous close; KuCoin omits it. KuCoin also shows a quiet
book side as empty (``null`` best bid/ask in its stats and tickers).
"""

from __future__ import annotations

import numpy as np

THIN_SPACING_MS = 240_000  # a live trade every ~4 simulated minutes
DAY_MINUTES = 1440
EMPTY_SIDE_PROBABILITY = 0.15  # KuCoin: per book version and side


def thin_trade_counts(minutes: np.ndarray, rate: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Trades per minute drawn around ``rate`` (often 0); the first minute of each UTC day
    always trades, so a quiet minute's carried price never depends on the window asked for."""
    n = np.floor(rate + uniform).astype(np.int64)
    day_start = minutes % DAY_MINUTES == 0
    n[day_start] = np.maximum(n[day_start], 1)
    return n


def flatten_quiet(bars: dict[str, np.ndarray]) -> None:
    """Minutes without trades become flat at the previous traded close, with zero volume.

    ``bars`` must start at a traded minute (a day start: see ``thin_trade_counts``)."""
    traded = bars["n"] > 0
    if not len(traded):
        return
    last = np.maximum.accumulate(np.where(traded, np.arange(len(traded)), 0))
    prev = np.concatenate(([0], last[:-1]))  # the last traded minute before each minute
    carry = bars["c"][prev]
    quiet = ~traded
    for col in ("o", "h", "l", "c"):
        bars[col] = np.where(quiet, carry, bars[col])
    for col in ("v", "vb", "q", "qb"):
        bars[col] = np.where(quiet, 0, bars[col])


def day_start(minute: int) -> int:
    return minute - minute % DAY_MINUTES
