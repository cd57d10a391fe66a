"""Batch indicators over a candle DataFrame on pandas-ta, for history queries and backtests.

pandas-ta is always called with ``talib=False`` so the result does not depend on whether the
TA-Lib wheel (a dev-only test oracle) happens to be installed. Where pandas-ta's own
convention differs from TA-Lib's, the inputs are arranged so the outputs follow TA-Lib and
therefore agree with the incremental engine (``engine.py``):

- RSI/ATR: pandas-ta's RMA is an adjusted EWM without an SMA seed; here Wilder's average is
  seeded with the mean of the first ``n`` changes / true ranges, as TA-Lib does.
- MACD: the fast EMA runs only where the slow one exists (seeded on closes
  [slow - fast .. slow - 1]) and the line is hidden until the signal exists.
- Bollinger Bands: SMA middle and population (ddof=0) standard deviation.

Gaps: rows are used as given (see the gap policy in ``engine.py``); ``fill_gaps_frame``
is the optional forward-fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas_ta as ta

from apps.market.indicators.engine import ALL_COLUMNS, IndicatorParams


def _series_or_nan(result: pd.Series | None, index: pd.Index) -> pd.Series:
    """pandas-ta returns None when the input is shorter than the period."""
    if result is None:
        return pd.Series(np.nan, index=index, dtype=float)
    return result.astype(float).reindex(index)


def _seeded(values: pd.Series, length: int) -> pd.Series:
    """NaN before ``length - 1``, the mean of the first ``length`` values there, then the
    values. The mean is summed in order, as TA-Lib does: with prices like 12345.678 a
    different summation order alone moves MACD by several 1e-12."""
    seeded = pd.Series(np.nan, index=values.index, dtype=float)
    if len(values) >= length:
        seeded.iloc[length - 1] = sum(values.iloc[:length].tolist()) / length
        seeded.iloc[length:] = values.iloc[length:]
    return seeded


def _ema(values: pd.Series, length: int) -> pd.Series:
    """pandas-ta EMA with TA-Lib's SMA seed over ``values``, which may start late (NaN)."""
    start = values.first_valid_index()
    if start is None:
        return pd.Series(np.nan, index=values.index, dtype=float)
    tail = values.loc[start:]
    result = ta.ema(_seeded(tail.reset_index(drop=True), length), length=length, sma=False, talib=False)
    if result is not None:
        result.index = tail.index
    return _series_or_nan(result, values.index)


def _wilder(values: pd.Series, period: int, first: int) -> pd.Series:
    """Wilder's average of ``values`` whose first value is at ``first``: the mean of
    values[first : first + period] seeds it at first + period - 1 (TA-Lib). This is the
    recurrence pandas-ta's EMA runs, with alpha 1/n; pandas' ewm is called directly because
    pandas-ta's EMA refuses series shorter than its span (2n - 1)."""
    tail = values.iloc[first:].reset_index(drop=True)
    result = _seeded(tail, period).ewm(alpha=1.0 / period, adjust=False).mean()
    result.index = values.index[first:]
    return _series_or_nan(result, values.index)


def _rsi(close: pd.Series, period: int) -> pd.Series:
    change = close.diff()
    gain = _wilder(change.clip(lower=0.0), period, first=1)
    loss = _wilder((-change).clip(lower=0.0), period, first=1)
    total = gain + loss
    rsi = 100.0 * (gain / total)
    return rsi.where(total != 0.0, 0.0).where(total.notna())


def _macd(close: pd.Series, params: IndicatorParams) -> pd.DataFrame:
    fast, slow = sorted((params.macd_fast, params.macd_slow))
    slow_ema = _ema(close, slow)
    fast_ema = _ema(close.iloc[slow - fast :], fast).reindex(close.index)
    line = fast_ema - slow_ema
    signal = _ema(line, params.macd_signal)
    line = line.where(signal.notna())
    return pd.DataFrame({"macd": line, "macd_signal": signal, "macd_hist": line - signal})


def _bbands(close: pd.Series, params: IndicatorParams) -> pd.DataFrame:
    middle = _series_or_nan(ta.sma(close, length=params.bb_period, talib=False), close.index)
    std = _series_or_nan(ta.stdev(close, length=params.bb_period, ddof=0, talib=False), close.index)
    width = params.bb_nbdev * std
    return pd.DataFrame({"bb_upper": middle + width, "bb_middle": middle, "bb_lower": middle - width})


def _atr(frame: pd.DataFrame, period: int) -> pd.Series:
    true_range = ta.true_range(frame["high"], frame["low"], frame["close"], talib=False)
    return _wilder(_series_or_nan(true_range, frame.index), period, first=1)


def indicator_frame(candles: pd.DataFrame, params: IndicatorParams | None = None) -> pd.DataFrame:
    """Indicators for each row of ``candles`` (columns high, low, close; open_time_ms is
    carried over when present), in row order. NaN while an indicator warms up."""
    params = params or IndicatorParams()
    frame = candles.reset_index(drop=True)
    frame = frame.assign(**{name: frame[name].astype(float) for name in ("high", "low", "close")})
    close = frame["close"]
    out = pd.concat(
        [
            _rsi(close, params.rsi_period).rename("rsi"),
            _macd(close, params),
            _bbands(close, params),
            _series_or_nan(ta.sma(close, length=params.sma_period, talib=False), close.index).rename("sma"),
            _ema(close, params.ema_period).rename("ema"),
            _atr(frame, params.atr_period).rename("atr"),
        ],
        axis=1,
    )[list(ALL_COLUMNS)]
    if "open_time_ms" in frame:
        out.insert(0, "open_time_ms", frame["open_time_ms"].astype("int64"))
    out.index = candles.index
    return out


def fill_gaps_frame(candles: pd.DataFrame, *, interval_ms: int) -> pd.DataFrame:
    """Optional gap fill: a flat candle at the previous close, zero volume, per missing
    interval (the DataFrame twin of ``engine.fill_gaps``)."""
    if candles.empty:
        return candles.copy()
    frame = candles.set_index("open_time_ms")
    full = np.arange(frame.index[0], frame.index[-1] + interval_ms, interval_ms, dtype="int64")
    frame = frame.reindex(full)
    close = frame["close"].ffill()
    missing = frame["open"].isna()
    for column in ("open", "high", "low"):
        frame[column] = frame[column].where(~missing, close)
    frame["close"] = close
    if "volume" in frame:
        frame["volume"] = frame["volume"].fillna(0.0)
    return frame.rename_axis("open_time_ms").reset_index()
