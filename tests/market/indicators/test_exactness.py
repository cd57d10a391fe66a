"""Incremental engine and pandas-ta batch path against TA-Lib: real files and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.market.indicators import ALL_COLUMNS, Bar, IndicatorParams, IndicatorState
from apps.market.indicators.batch import indicator_frame
from tests.market.indicators.helpers import assert_matches, bars_from_closes, talib_reference


def _check_both_paths(
    bars: list[Bar], params: IndicatorParams | None = None, reference: dict[str, np.ndarray] | None = None
) -> None:
    reference = reference or talib_reference(bars, params)
    values = list(IndicatorState(params).run(bars))
    frame = indicator_frame(pd.DataFrame(bars, columns=list(Bar._fields)), params)
    for column in ALL_COLUMNS:
        assert_matches(f"incremental {column}", (getattr(v, column) for v in values), reference[column])
        assert_matches(f"batch {column}", frame[column], reference[column])


def test_every_shared_candle_file_matches_talib(candle_bars: dict[str, list[Bar]]) -> None:
    assert len(candle_bars) >= 5
    for bars in candle_bars.values():
        _check_both_paths(bars)


def test_non_default_periods_match_talib(candle_bars: dict[str, list[Bar]]) -> None:
    params = IndicatorParams(
        rsi_period=7, macd_fast=26, macd_slow=5, macd_signal=4, bb_period=10, bb_nbdev=1.5, atr_period=1
    )
    _check_both_paths(candle_bars["binance-ETHBTC-5m-2018-01.csv.gz"][:1500], params)


@pytest.mark.parametrize("price", [0.1, 1.0, 4.567e-05, 12345.678, 1e-8])
def test_flat_prices(price: float) -> None:
    """No movement: RSI is 0 as in TA-Lib, bands collapse exactly onto the middle."""
    bars = bars_from_closes([price] * 120)
    _check_both_paths(bars)
    last = IndicatorState().run(bars)
    *_, final = last
    assert final.rsi == 0.0
    assert final.bb_upper == final.bb_lower == final.bb_middle


def test_a_single_huge_jump() -> None:
    closes = np.full(240, 0.1)
    closes[120:] = 1000.0
    _check_both_paths(bars_from_closes(closes, spread=0.001))


def test_tiny_prices() -> None:
    rng = np.random.default_rng(11)
    closes = 1e-8 * (1 + 0.05 * rng.random(600))
    _check_both_paths(bars_from_closes(closes, spread=0.01))


def test_long_series_does_not_drift() -> None:
    rng = np.random.default_rng(5)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, 100_000)))
    _check_both_paths(bars_from_closes(closes, spread=0.0007))


def test_series_shorter_than_the_warm_up() -> None:
    for length in (1, 2, 15, 20, 33, 34):
        _check_both_paths(bars_from_closes(np.linspace(1.0, 2.0, length) ** 2, spread=0.01))
