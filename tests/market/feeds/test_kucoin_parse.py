from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from apps.market.events import KlineEvent, TradeEvent
from apps.market.feeds import kucoin_parse as kp
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.local_book import DepthDiff


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


def test_level2_update_is_a_depth_diff_with_per_change_sequences():
    msg = {"topic": "/market/level2:BTC-USDT", "type": "message", "subject": "trade.l2update", "data": {"changes": {"asks": [["18906", "0.00331", "14103845"], ["18907.3", "0.58751503", "14103844"]], "bids": [["18891.9", "0", "14103847"]]}, "sequenceEnd": 14103847, "sequenceStart": 14103844, "symbol": "BTC-USDT", "time": 1663747970273}}  # fmt: skip
    d = kp.parse_message(msg)
    assert isinstance(d, DepthDiff) and d.symbol == "BTCUSDT" and (d.first_id, d.last_id) == (14103844, 14103847)
    assert d.asks[1] == (Decimal("18907.3"), Decimal("0.58751503"), 14103844)
    assert d.bids == ((Decimal("18891.9"), Decimal("0"), 14103847),) and d.ts_ms == 1663747970273


def test_part_book_is_a_snapshot_at_its_sequence():
    data = {"time": 1729172965609, "sequence": "3262786978", "bids": [["6500.12", "0.45054140"]], "asks": [["6500.16", "0.57753524"]]}  # fmt: skip
    snap = kp.book_snapshot("BTCUSDT", data, limit=100)
    assert snap is not None and snap.sequence == 3262786978 and snap.limit == 100 and snap.ts_ms == 1729172965609
    assert snap.asks == ((Decimal("6500.16"), Decimal("0.57753524")),)
    empty = kp.book_snapshot("BTCUSDT", {**data, "bids": None}, limit=100)  # a quiet pair's empty side
    assert empty is not None and empty.bids == ()


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
    assert "/market/level2:BTC-USDT,ETH-USDT" in topics  # the local book is the book (no ticker, no depth5)
    assert not any(t.startswith(("/market/ticker", "/spotMarket/level2Depth")) for t in topics)
