"""Cost per closed-candle update of RSI(14) + MACD(12,26,9) + BB(20,2) on one timeframe.

Same run, same candles (../shared/data ETHBTC 5m, or a seeded random walk if missing):
- incremental: the O(1) primitives of apps.market.indicators (and the whole IndicatorState,
  which also carries SMA, EMA and ATR, as a second figure);
- (a) recomputing the three with pandas-ta (its own code, talib=False) over the last 500;
- (b) recomputing the three with TA-Lib over the last 500 (array built from the window).
Medians of per-update times (incremental timed in blocks of 100 updates).

Usage: python bench/indicators.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pandas_ta as ta  # noqa: E402

from apps.market.indicators.core import Bollinger, Macd, Rsi  # noqa: E402
from apps.market.indicators.csvio import read_candle_csv  # noqa: E402
from apps.market.indicators.engine import Bar, IndicatorState  # noqa: E402

WINDOW = 500
BLOCK = 100
DATA = ROOT.parent / "shared" / "data" / "binance-ETHBTC-5m-2018-01.csv.gz"


def _bars() -> list[Bar]:
    if DATA.exists():
        return read_candle_csv(DATA)
    rng = np.random.default_rng(42)
    closes = 0.09 * np.exp(np.cumsum(rng.normal(0, 1e-3, 5760)))
    return [Bar(i * 300_000, c, c * 1.001, c * 0.999, c, 1.0) for i, c in enumerate(closes)]


def bench_incremental(closes: list[float]) -> float:
    rsi, macd, bb = Rsi(14), Macd(12, 26, 9), Bollinger(20, 2.0)
    for x in closes[:WINDOW]:  # warmed up, like a live state
        rsi.update(x), macd.update(x), bb.update(x)
    samples = []
    rest = closes[WINDOW:]
    for start in range(0, len(rest) - BLOCK + 1, BLOCK):
        block = rest[start : start + BLOCK]
        t0 = time.perf_counter()
        for x in block:
            rsi.update(x)
            macd.update(x)
            bb.update(x)
        samples.append((time.perf_counter() - t0) / BLOCK)
    return statistics.median(samples) * 1e6


def bench_state(bars: list[Bar]) -> float:
    state = IndicatorState()
    for bar in bars[:WINDOW]:
        state.update(bar)
    samples = []
    rest = bars[WINDOW:]
    for start in range(0, len(rest) - BLOCK + 1, BLOCK):
        block = rest[start : start + BLOCK]
        t0 = time.perf_counter()
        for bar in block:
            state.update(bar)
        samples.append((time.perf_counter() - t0) / BLOCK)
    return statistics.median(samples) * 1e6


def bench_recompute(closes: list[float], updates: int, compute) -> float:  # type: ignore[no-untyped-def]
    window: deque[float] = deque(closes[:WINDOW], maxlen=WINDOW)
    samples = []
    for x in closes[WINDOW : WINDOW + updates]:
        t0 = time.perf_counter()
        window.append(x)
        compute(window)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


def pandas_ta_all(window: deque[float]) -> None:
    close = pd.Series(window, dtype=float)
    ta.rsi(close, length=14, talib=False)
    ta.macd(close, fast=12, slow=26, signal=9, talib=False)
    ta.bbands(close, length=20, std=2.0, ddof=0, talib=False)


def talib_all(window: deque[float]) -> None:
    import talib

    close = np.fromiter(window, dtype=float, count=len(window))
    talib.RSI(close, 14)
    talib.MACD(close, 12, 26, 9)
    talib.BBANDS(close, 20, 2.0, 2.0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer updates (CI smoke run)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    bars = _bars()
    if args.quick:
        bars = bars[:2500]
    closes = [bar.close for bar in bars]
    incremental = bench_incremental(closes)
    state = bench_state(bars)
    pandas_ta_us = bench_recompute(closes, 30 if args.quick else 200, pandas_ta_all)
    try:
        import talib  # noqa: F401  (dev-only oracle)

        talib_us: float | None = bench_recompute(closes, 500 if args.quick else 3000, talib_all)
    except ImportError:
        talib_us = None
    result = {
        "bench": "indicators",
        "quick": args.quick,
        "updates": len(closes) - WINDOW,
        "incremental_rsi_macd_bb_us": round(incremental, 3),
        "incremental_all_six_state_us": round(state, 3),
        "pandas_ta_recompute_500_us": round(pandas_ta_us, 1),
        "talib_recompute_500_us": None if talib_us is None else round(talib_us, 2),
        "speedup_vs_pandas_ta": round(pandas_ta_us / incremental, 1),
        "speedup_vs_talib": None if talib_us is None else round(talib_us / incremental, 2),
        "target_100x_pandas_ta": pandas_ta_us / incremental >= 100,
        "target_faster_than_talib": None if talib_us is None else talib_us > incremental,
    }
    print(f"incremental RSI+MACD+BB: {incremental:.2f} us/update; whole state: {state:.2f} us/update")
    print(f"pandas-ta recompute over {WINDOW}: {pandas_ta_us:.0f} us; TA-Lib: {talib_us} us")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
