"""Chart series from stored candles, warmed up on the candles before the range (database)."""

from __future__ import annotations

import numpy as np
import pytest

from apps.market.indicators import ALL_COLUMNS, Bar
from apps.market.indicators.selectors import indicator_series_get
from tests.market.indicators.helpers import ETH, assert_matches, store_bars, talib_reference

pytestmark = pytest.mark.django_db


def test_indicator_series_reads_warm_up_before_the_range(candle_bars: dict[str, list[Bar]]) -> None:
    bars = candle_bars[ETH][:600]
    store_bars(bars)
    start, end = bars[500].open_time_ms, bars[549].open_time_ms
    series = indicator_series_get(exchange="binance", symbol="ETHBTC", timeframe="5m", start_ms=start, end_ms=end)
    assert [row["open_time_ms"] for row in series] == [b.open_time_ms for b in bars[500:550]]
    full = talib_reference(bars)
    for column in ALL_COLUMNS:
        assert_matches(column, [row[column] for row in series], full[column][500:550], rtol=1e-8)
    latest = indicator_series_get(exchange="binance", symbol="ETHBTC", timeframe="5m", limit=10)
    assert [row["open_time_ms"] for row in latest] == [b.open_time_ms for b in bars[-10:]]
    early = indicator_series_get(exchange="binance", symbol="ETHBTC", timeframe="5m", start_ms=bars[0].open_time_ms)
    assert early[0]["rsi"] is None and early[14]["rsi"] is not None and len(early) == 500
    assert np.isfinite(early[-1]["macd"])
    assert indicator_series_get(exchange="binance", symbol="NOPE", timeframe="5m") == []
