from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from apps.market.events import BookSnapshot, KlineEvent, TradeEvent
from apps.market.feeds import kucoin_parse as kp
from apps.market.feeds.control import FeedControl, MalformedMessage


def test_match_nanosecond_time_and_taker_side():
    msg = {"topic": "/market/match:BTC-USDT", "type": "message", "subject": "trade.l3match", "data": {"makerOrderId": "a", "price": "67523", "sequence": "1", "side": "buy", "size": "0.003", "symbol": "BTC-USDT", "takerOrderId": "b", "time": "1729843222921000000", "tradeId": "11067996711960577", "type": "match"}}  # fmt: skip
    t = kp.parse_raw(orjson.dumps(msg))
    assert t == TradeEvent(
        "kucoin", "BTCUSDT", "11067996711960577", Decimal("67523"), Decimal("0.003"), "buy", 1729843222921
    )


def test_candles_are_open_close_high_low_order():
    msg = {"topic": "/market/candles:BTC-USDT_1hour", "type": "message", "subject": "trade.candles.update", "data": {"symbol": "BTC-USDT", "candles": ["1729839600", "67644.9", "67437.6", "67724.8", "67243.8", "44.88321441", "3027558.991928447"], "time": 1729842192785164840}}  # fmt: skip
    k = kp.parse_message(msg)
    assert isinstance(k, KlineEvent)
    assert (k.open, k.high, k.low, k.close) == (
        Decimal("67644.9"),
        Decimal("67724.8"),
        Decimal("67243.8"),
        Decimal("67437.6"),
    )
    assert k.timeframe == "1h" and k.open_time_ms == 1729839600000 and k.ts_ms == 1729842192785 and not k.closed


def test_ticker_is_top_of_book():
    msg = {"type": "message", "topic": "/market/ticker:BTC-USDT", "subject": "trade.ticker", "data": {"sequence": "1545896668986", "price": "0.08", "size": "0.011", "bestAsk": "0.08", "bestAskSize": "0.18", "bestBid": "0.049", "bestBidSize": "0.036", "time": 1704873323416}}  # fmt: skip
    b = kp.parse_message(msg)
    assert isinstance(b, BookSnapshot) and b.symbol == "BTCUSDT"
    assert b.best_bid == Decimal("0.049") and b.best_ask == Decimal("0.08") and b.ts_ms == 1704873323416


def test_level2_depth5():
    msg = {"topic": "/spotMarket/level2Depth5:BTC-USDT", "type": "message", "subject": "level2", "data": {"asks": [["67996.7", "1.14213262"], ["67996.8", "0.21748212"]], "bids": [["67996.6", "0.37969491"]], "timestamp": 1729822226746}}  # fmt: skip
    b = kp.parse_message(msg)
    assert isinstance(b, BookSnapshot) and len(b.asks) == 2 and b.best_ask == Decimal("67996.7")


def test_control_messages():
    assert kp.parse_message({"id": "hQvf8jkno", "type": "welcome"}) is None
    assert kp.parse_message({"id": "1", "type": "pong"}) is None
    err = kp.parse_message(
        {"id": "1", "type": "error", "code": 404, "data": "topic /market/match:BTCUSDT is not found"}
    )
    assert isinstance(err, FeedControl) and err.kind == "error"


@pytest.mark.parametrize(
    "raw", [b"garbage", b'{"type":"message","topic":"/market/match:BTC-USDT","data":{"price":"x"}}']
)
def test_malformed(raw):
    with pytest.raises(MalformedMessage):
        kp.parse_raw(raw)


def test_rest_candle_row_and_stats():
    k = kp.candle_row(
        "BTCUSDT", "1m", ["1566789720", "10411.5", "10401.9", "10411.5", "10396.3", "29.11357276", "302889.301529914"]
    )
    assert (
        k.close == Decimal("10401.9") and k.high == Decimal("10411.5") and k.closed and k.open_time_ms == 1566789720000
    )
    stats = {"time": 1729175612158, "symbol": "BTC-USDT", "buy": "66982.4", "sell": "66982.5", "changeRate": "-0.0114", "changePrice": "-778.1", "high": "68107.7", "low": "66683.3", "vol": "1738.02898182", "volValue": "117321982.415978333", "last": "66981.5"}  # fmt: skip
    t = kp.stats_ticker("BTCUSDT", stats)
    assert t.last == Decimal("66981.5") and t.open == Decimal("67759.6") and t.change_pct == Decimal("-1.1400")


def test_topics():
    topics = kp.topics(["BTCUSDT", "ETHUSDT"], ("1m", "4h"))
    assert "/market/match:BTC-USDT,ETH-USDT" in topics and "/market/candles:ETH-USDT_4hour" in topics
