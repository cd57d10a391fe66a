"""Engine behaviour: preview, idempotence, params, gap policy."""

from __future__ import annotations

import copy
from collections import deque

import numpy as np
import pandas as pd
import pytest

from apps.market.indicators import ALL_COLUMNS, Bar, IndicatorEngine, IndicatorParams, IndicatorState, fill_gaps
from apps.market.indicators.batch import fill_gaps_frame, indicator_frame
from tests.market.indicators.helpers import assert_matches, bars_from_closes, talib_reference

FIVE_MINUTES = 300_000


def _dump(obj: object) -> object:
    """Every slot of the state, recursively (the primitives are __slots__ objects)."""
    slots = getattr(type(obj), "__slots__", None)
    if slots is not None and not isinstance(obj, tuple):
        return {name: _dump(getattr(obj, name)) for name in slots}
    if isinstance(obj, deque):
        return list(obj)
    return obj


def _snapshot(state: IndicatorState) -> object:
    return copy.deepcopy(_dump(state))


def _same(a: object, b: object) -> bool:
    return a == b


def test_preview_does_not_mutate_and_equals_the_update(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars["binance-LTCBTC-5m-2018-01.csv.gz"][:400]
    state = IndicatorState()
    for bar in bars:
        before = _snapshot(state)
        forming = [bar._replace(close=bar.open), bar._replace(close=bar.high), bar]
        previews = [state.preview(candle) for candle in forming]
        assert _same(_snapshot(state), before), "preview changed the state"
        assert state.update(bar) == previews[-1]


def test_a_replayed_or_older_candle_is_ignored() -> None:
    bars = bars_from_closes(np.linspace(1, 2, 60), spread=0.01)
    state = IndicatorState()
    for bar in bars:
        state.update(bar)
    before = _snapshot(state)
    assert state.update(bars[-1]._replace(close=99.0)) == state.latest
    assert state.update(bars[10]) == state.latest
    assert state.preview(bars[-1]._replace(close=99.0)) == state.latest
    assert _same(_snapshot(state), before)
    assert state.count == 60


def test_values_are_none_until_each_lookback(candle_bars: dict[str, list[Bar]]) -> None:
    params = IndicatorParams()
    values = list(IndicatorState(params).run(candle_bars["binance-ETHBTC-5m-2018-01.csv.gz"][:60]))
    columns = {"rsi": "rsi", "macd": "macd", "bb": "bb_upper", "sma": "sma", "ema": "ema", "atr": "atr"}
    for name, lookback in params.lookbacks().items():
        column = columns[name]
        assert all(getattr(v, column) is None for v in values[:lookback]), name
        assert all(getattr(v, column) is not None for v in values[lookback:]), name
    assert params.lookbacks() == {"rsi": 14, "macd": 33, "bb": 19, "sma": 19, "ema": 19, "atr": 14}
    assert params.warmup_candles() > 33 + 250


def test_engine_keeps_one_state_per_key() -> None:
    engine = IndicatorEngine()
    up, down = bars_from_closes(range(1, 40)), bars_from_closes(range(40, 1, -1))
    for a, b in zip(up, down, strict=False):
        engine.update("binance", "BTCUSDT", "1m", a)
        engine.update("kucoin", "BTCUSDT", "1m", b)
    assert engine.state("binance", "BTCUSDT", "1m").latest.rsi == 100.0
    assert engine.state("kucoin", "BTCUSDT", "1m").latest.rsi == 0.0
    assert sorted(engine.keys()) == [("binance", "BTCUSDT", "1m"), ("kucoin", "BTCUSDT", "1m")]


@pytest.mark.parametrize(
    "data",
    [{"rsi_period": 1}, {"macd_signal": 0}, {"bb_period": "x"}, {"bb_nbdev": -1}, {"atr_period": 0}],
)
def test_bad_params_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        IndicatorParams.from_mapping(data)


def test_params_from_mapping() -> None:
    params = IndicatorParams.from_mapping({"rsi_period": "7", "bb_nbdev": "2.5", "unknown": 1, "ema_period": ""})
    assert params == IndicatorParams(rsi_period=7, bb_nbdev=2.5)


def _gaps(bars: list[Bar]) -> int:
    return sum(b.open_time_ms - a.open_time_ms != FIVE_MINUTES for a, b in zip(bars, bars[1:], strict=False))


@pytest.mark.parametrize("name", ["binance-ADABTC-5m-2018-01.csv.gz", "binance-XMRBTC-5m-2018-01.csv.gz"])
def test_gap_policy_runs_over_existing_candles(candle_bars: dict[str, list[Bar]], name: str) -> None:
    """Documented policy: no synthetic candles; the same rows TA-Lib sees, in order."""
    bars = candle_bars[name]
    assert _gaps(bars) > 0, "the real files have gaps"
    values = list(IndicatorState().run(bars))
    assert len(values) == len(bars)
    assert [v.open_time_ms for v in values] == [b.open_time_ms for b in bars]
    reference = talib_reference(bars)
    for column in ("rsi", "macd_hist", "bb_lower"):
        assert_matches(column, (getattr(v, column) for v in values), reference[column])


def test_fill_gaps_is_the_optional_forward_fill(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars["binance-ADABTC-5m-2018-01.csv.gz"]
    filled = fill_gaps(bars, interval_ms=FIVE_MINUTES)
    span = (bars[-1].open_time_ms - bars[0].open_time_ms) // FIVE_MINUTES + 1
    assert len(filled) == span > len(bars)
    assert _gaps(filled) == 0
    originals = {b.open_time_ms for b in bars}
    for prev, bar in zip(filled, filled[1:], strict=False):
        if bar.open_time_ms not in originals:
            assert bar.open == bar.high == bar.low == bar.close == prev.close and bar.volume == 0.0
    frame = fill_gaps_frame(pd.DataFrame(bars, columns=list(Bar._fields)), interval_ms=FIVE_MINUTES)
    assert frame.to_numpy().tolist() == pd.DataFrame(filled, columns=list(Bar._fields)).to_numpy().tolist()
    # Filled and unfilled series are different inputs, so they give different values.
    with_fill = {v.open_time_ms: v.bb_middle for v in IndicatorState().run(filled)}
    without = {v.open_time_ms: v.bb_middle for v in IndicatorState().run(bars)}
    differing = [t for t, value in without.items() if value is not None and with_fill[t] != value]
    assert differing and min(differing) > bars[1500].open_time_ms  # only after the first gap


def test_indicator_frame_keeps_index_and_open_time(candle_bars: dict[str, list[Bar]]) -> None:
    df = pd.DataFrame(candle_bars["binance-ETHBTC-5m-2018-01.csv.gz"][:100], columns=list(Bar._fields))
    df.index = df.index + 1000
    out = indicator_frame(df)
    assert list(out.columns) == ["open_time_ms", *ALL_COLUMNS]
    assert out.index.equals(df.index)
    assert out["open_time_ms"].tolist() == df["open_time_ms"].tolist()
