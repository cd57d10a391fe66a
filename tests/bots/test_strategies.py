from __future__ import annotations

import pytest

from apps.bots.strategies import ParamsInvalid, strategy_build, strategy_describe, strategy_names
from tests.bots.helpers import TF, bars, run_signals


def test_registry_has_the_six_builtins():
    assert set(strategy_names()) >= {
        "rsi_mean_reversion",
        "macd_crossover",
        "bollinger_reversion",
        "ma_crossover",
        "dca",
        "grid",
    }
    described = strategy_describe("rsi_mean_reversion")
    assert [p["name"] for p in described["params"]] == ["period", "oversold", "overbought"]


def test_rsi_buys_oversold_and_sells_overbought():
    # period 2: two falls -> RSI 0 (< 30) buy; two rises -> RSI 100 (> 70) sell.
    strat = strategy_build("rsi_mean_reversion", {"period": 2})
    signals = run_signals(strat, bars([10, 9, 8, 7, 8, 9, 10]))
    assert [(i, s.action) for i, s in signals] == [(2, "buy"), (5, "sell")]
    assert "RSI 0.00 < 30" in signals[0][1].reason


def test_rsi_does_not_buy_twice_while_holding():
    strat = strategy_build("rsi_mean_reversion", {"period": 2})
    signals = run_signals(strat, bars([10, 9, 8, 7, 6, 5]))
    assert [s.action for _, s in signals] == ["buy"]


def test_macd_crossover_buys_on_upward_cross_and_sells_on_downward_cross():
    strat = strategy_build("macd_crossover", {"fast": 2, "slow": 3, "signal": 2})
    closes = [10, 10, 10, 10, 9, 8, 7, 8, 10, 12, 12, 11, 9, 7]
    signals = run_signals(strat, bars(closes))
    actions = [s.action for _, s in signals]
    assert actions[:2] == ["buy", "sell"]
    buy_at, sell_at = signals[0][0], signals[1][0]
    assert closes[buy_at] > closes[buy_at - 1]  # bought into the turn up
    assert closes[sell_at] < closes[sell_at - 1]  # sold into the turn down


def test_bollinger_buys_below_lower_band_and_exits_at_middle():
    strat = strategy_build("bollinger_reversion", {"period": 4, "stddev": 1.0})
    closes = [10, 11, 10, 11, 7, 8, 10, 11]
    signals = run_signals(strat, bars(closes))
    assert [(i, s.action) for i, s in signals] == [(4, "buy"), (6, "sell")]


def test_sma_and_ema_crossover():
    closes = [5, 5, 5, 4, 3, 4, 6, 8, 8, 6, 4, 2]
    sma = run_signals(strategy_build("ma_crossover", {"fast": 2, "slow": 3}), bars(closes))
    # i=6: SMA2 5.0 > SMA3 4.33 (was 3.5 < 3.67); i=9: SMA2 7.0 < SMA3 7.33.
    assert [(i, s.action) for i, s in sma] == [(6, "buy"), (9, "sell")]
    ema = run_signals(strategy_build("ma_crossover", {"fast": 2, "slow": 3, "ma_type": "ema"}), bars(closes))
    assert [s.action for _, s in ema] == ["buy", "sell"]


def test_dca_buys_every_n_candles_aligned_to_the_epoch_and_stops_at_max_buys():
    strat = strategy_build("dca", {"interval_candles": 3, "max_buys": 2}, timeframe_ms=TF)
    signals = run_signals(strat, bars([1] * 12, start_ms=TF))  # candle indexes 1..12
    assert [i + 1 for i, _ in signals] == [3, 6]  # then max_buys stops it


def test_grid_buys_a_slice_per_level_down_and_sells_a_slice_per_level_up():
    strat = strategy_build("grid", {"lower": "100", "upper": "200", "levels": 10})
    signals = run_signals(strat, bars([155, 145, 135, 137, 146, 158]))
    assert [(i, s.action) for i, s in signals] == [(1, "buy"), (2, "buy"), (4, "sell"), (5, "sell")]
    assert signals[2][1].fraction == pytest.approx(0.5)  # one of two slices
    assert signals[3][1].fraction == 1.0


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("rsi_mean_reversion", {"oversold": 80, "overbought": 70}, "oversold"),
        ("macd_crossover", {"fast": 30, "slow": 20}, "fast"),
        ("ma_crossover", {"fast": 50, "slow": 50}, "fast"),
        ("grid", {"lower": "10", "upper": "5"}, "upper"),
    ],
)
def test_cross_field_rules(name, params, field):
    with pytest.raises(ParamsInvalid) as exc:
        strategy_build(name, params)
    assert field in exc.value.errors
