"""Backtest throughput: candles per second through strategy + risk + the paper fill engine.

Same run, same candles (../shared/data BTCQUOTED 1m, 13,681 candles, parsed once before
timing): RSI mean reversion (period 14, 30/70) with a 2 % stop-loss through
``apps.bots.backtest.backtest_run`` (strategy, ``risk.decide``, ``apps.portfolio.fills``
book walk on the candle-synthesised book, equity curve and metrics), against the in-run
baseline: the same strategy's pure signal pass over the same candles (indicator update and
signal only). Best of N repetitions for both. Target: >= 100,000 candles/s.

Usage: python bench/backtest.py [--quick]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from apps.bots.backtest import backtest_run, load_csv  # noqa: E402
from apps.bots.strategies import PositionView, strategy_build  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "binance-BTCQUOTED-1m-2017-11.csv.gz"
PARAMS = {"period": 14, "oversold": 30, "overbought": 70}
RISK = {"order_size": "0.05", "stop_loss_pct": "2"}
TARGET = 100_000


def _signal_pass(bars: list) -> float:
    strategy = strategy_build("rsi_mean_reversion", PARAMS)
    position = PositionView()
    started = time.perf_counter()
    for bar in bars:
        strategy.on_candle(bar, position)
    return time.perf_counter() - started


def _backtest(bars: list) -> tuple[float, object]:
    started = time.perf_counter()
    report = backtest_run(
        strategy="rsi_mean_reversion", params=PARAMS, bars=bars, risk=RISK, initial_quote=Decimal("10")
    )
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 2 if args.quick else 7
    bars = load_csv(DATA)
    n = len(bars)
    base = min(_signal_pass(bars) for _ in range(reps))
    runs = [_backtest(bars) for _ in range(reps)]
    best = min(t for t, _ in runs)
    report = runs[0][1]
    hashes = {r.trade_hash for _, r in runs}
    rate = n / best
    print(f"candles: {n}  trades: {len(report.trades)}  deterministic: {len(hashes) == 1}")
    print(f"signal pass (baseline): {n / base:,.0f} candles/s")
    print(f"strategy + risk + fill engine: {rate:,.0f} candles/s (target {TARGET:,})")
    result = {
        "bench": "backtest",
        "data": DATA.name,
        "strategy": "rsi_mean_reversion",
        "candles": n,
        "trades": len(report.trades),
        "repetitions": reps,
        "candles_per_s": round(rate),
        "baseline_signal_candles_per_s": round(n / base),
        "vs_baseline": round(rate / (n / base), 3),
        "target_candles_per_s": TARGET,
        "meets_target": rate >= TARGET,
        "deterministic": len(hashes) == 1,
        "trade_hash": report.trade_hash,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
