"""Quote volumes past int64: a KuCoin BTC-USDT week is ~2e19 quote units (10^-9 USDT); they
were cast to int64 and came out as -2^63 with "invalid value encountered in cast"."""

from __future__ import annotations

import pytest

from apps.market.simulator.candles import KlineBook
from apps.market.simulator.market import Market
from apps.market.simulator.symbols import DEFAULT_SPECS

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
START = 1_623_980_760_000  # 2021-06-18: BTC near 35k, a heavy week


@pytest.mark.parametrize("exchange", ["kucoin", "binance"])
@pytest.mark.parametrize("interval", ["1h", "1d", "1w", "1M"])
def test_quote_volume_lies_between_volume_times_low_and_high(exchange: str, interval: str) -> None:
    market = Market(exchange, DEFAULT_SPECS["BTCUSDT"], 2201, START, 20.0, 1.0)
    market.generate(START + 1000, 1000)
    rows = KlineBook(market).klines(interval, start_ms=None, end_ms=None, limit=5, now_ms=START + 1000)
    assert rows
    for r in rows:
        volume, quote, taker_volume, taker_quote = r[5], r[6], r[8], r[9]
        assert volume * r[3] <= quote <= volume * r[2], (interval, r)
        assert 0 <= taker_quote <= quote and taker_volume <= volume, (interval, r)
