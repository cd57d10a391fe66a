"""The aggregator against an independent aggregation of real recorded trades."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

from apps.market.aggregator import CandleAggregator
from apps.market.events import KlineEvent
from apps.market.feeds.symbols import TIMEFRAME_MS, TIMEFRAMES


def _trades(shared_data):
    with gzip.open(shared_data / "binance-XRPETH-trades-2019-10.json.gz", "rt") as fh:
        return json.load(fh, parse_float=Decimal)


def _independent(trades, size_ms):
    """Group by bucket, then take first/max/min/last/sum: a different algorithm on purpose."""
    buckets: dict[int, list] = {}
    for ts, _id, _oid, _side, price, amount, _cost in trades:
        buckets.setdefault(ts // size_ms * size_ms, []).append((price, amount))
    out = {}
    for start, rows in buckets.items():
        prices = [p for p, _ in rows]
        out[start] = (prices[0], max(prices), min(prices), prices[-1], sum((a for _, a in rows), Decimal(0)))
    return out


def _aggregate(trades):
    agg = CandleAggregator("binance")
    closed: list[KlineEvent] = []
    for ts, _id, _oid, _side, price, amount, _cost in trades:
        closed += agg.add_trade("XRPETH", ts, price, amount)
    closed += agg.close_until(trades[-1][0] + 86_400_000 * 2)
    return closed


def test_one_minute_candles_equal_independent_aggregation(shared_data):
    trades = _trades(shared_data)
    closed = _aggregate(trades)
    for tf in TIMEFRAMES:
        mine = {c.open_time_ms: (c.open, c.high, c.low, c.close, c.volume) for c in closed if c.timeframe == tf}
        assert mine == _independent(trades, TIMEFRAME_MS[tf]), tf
    assert sum(1 for c in closed if c.timeframe == "1m") > 1000


def test_forming_candle_of_every_timeframe_includes_the_forming_minute(shared_data):
    trades = _trades(shared_data)[:3000]
    agg = CandleAggregator("binance")
    for ts, _id, _oid, _side, price, amount, _cost in trades:
        agg.add_trade("XRPETH", ts, price, amount)
    last_ts = trades[-1][0]
    for tf in TIMEFRAMES:
        size = TIMEFRAME_MS[tf]
        start = last_ts // size * size
        expected = _independent([t for t in trades if t[0] >= start], size)[start]
        f = agg.forming("XRPETH", tf)
        assert f is not None and not f.closed
        assert (f.open, f.high, f.low, f.close, f.volume) == expected, tf


def test_seeded_forming_candle_does_not_double_count_the_minute():
    agg = CandleAggregator("kucoin")
    d = Decimal
    agg.add_trade("BTCUSDT", 3_600_000 + 60_000, d("10"), d("1"))
    # The exchange's 1h snapshot already includes that first trade.
    seed = KlineEvent("kucoin", "BTCUSDT", "1h", 3_600_000, d("9"), d("12"), d("8"), d("10"), d("5"), d("50"), False, 0)
    agg.of("BTCUSDT").seed(seed)
    agg.add_trade("BTCUSDT", 3_600_000 + 61_000, d("13"), d("2"))
    f = agg.forming("BTCUSDT", "1h")
    assert (f.open, f.high, f.low, f.close, f.volume) == (d("9"), d("13"), d("8"), d("13"), d("7"))
    closed = agg.add_trade("BTCUSDT", 3_600_000 + 120_000, d("11"), d("1"))
    assert [c.timeframe for c in closed] == ["1m"]
    f = agg.forming("BTCUSDT", "1h")
    assert f.volume == d("8") and f.high == d("13")
