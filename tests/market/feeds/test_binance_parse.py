from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from apps.market.events import KlineEvent, TickerEvent, TradeEvent
from apps.market.feeds import binance_parse as bp
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.local_book import DepthDiff

TRADE = {
    "e": "trade",
    "E": 1672515782136,
    "s": "BNBBTC",
    "t": 12345,
    "p": "0.001",
    "q": "100",
    "T": 1672515782136,
    "m": True,
    "M": True,
}
KLINE = {
    "e": "kline",
    "E": 1672515782136,
    "s": "BNBBTC",
    "k": {
        "t": 1672515780000,
        "T": 1672515839999,
        "s": "BNBBTC",
        "i": "1m",
        "f": 100,
        "L": 200,
        "o": "0.0010",
        "c": "0.0020",
        "h": "0.0025",
        "l": "0.0015",
        "v": "1000",
        "n": 100,
        "x": False,
        "q": "1.0000",
        "V": "500",
        "Q": "0.500",
        "B": "123456",
    },
}
TICKER = {
    "e": "24hrTicker", "E": 1672515782136, "s": "BNBBTC", "p": "0.0015", "P": "250.00", "w": "0.0018", "x": "0.0009",
    "c": "0.0025", "Q": "10", "b": "0.0024", "B": "10", "a": "0.0026", "A": "100", "o": "0.0010", "h": "0.0025",
    "l": "0.0010", "v": "10000", "q": "18", "O": 0, "C": 86400000, "F": 0, "L": 18150, "n": 18151,
}  # fmt: skip


def test_trade_combined_envelope_is_decimal_and_taker_side():
    event = bp.parse_raw(orjson.dumps({"stream": "bnbbtc@trade", "data": TRADE}))
    assert event == TradeEvent("binance", "BNBBTC", "12345", Decimal("0.001"), Decimal("100"), "sell", 1672515782136)


def test_agg_trade_buyer_taker():
    data = {"e": "aggTrade", "E": 1, "s": "BNBBTC", "a": 7, "p": "0.001", "q": "2", "f": 1, "l": 2, "T": 5, "m": False}
    event = bp.parse_message(data)
    assert isinstance(event, TradeEvent) and event.taker_side == "buy" and event.trade_id == "7"


def test_kline_fields_in_binance_order():
    event = bp.parse_message({"stream": "bnbbtc@kline_1m", "data": KLINE})
    assert isinstance(event, KlineEvent)
    assert (event.open, event.high, event.low, event.close) == (
        Decimal("0.0010"),
        Decimal("0.0025"),
        Decimal("0.0015"),
        Decimal("0.0020"),
    )
    assert event.volume == Decimal("1000") and event.quote_volume == Decimal("1.0000")
    assert event.timeframe == "1m" and event.open_time_ms == 1672515780000 and event.closed is False


def test_ticker_and_mini_ticker():
    t = bp.parse_message(TICKER)
    assert isinstance(t, TickerEvent) and t.last == Decimal("0.0025") and t.change_pct == Decimal("250.00")
    mini = {
        "e": "24hrMiniTicker",
        "E": 1,
        "s": "BNBBTC",
        "c": "0.0025",
        "o": "0.0010",
        "h": "0.0025",
        "l": "0.0010",
        "v": "10000",
        "q": "18",
    }
    m = bp.parse_message(mini)
    assert isinstance(m, TickerEvent) and m.change_pct == Decimal("150")


def test_diff_depth_is_a_depth_diff_every_change_numbered_with_u():
    data = {"e": "depthUpdate", "E": 1672515782136, "s": "BNBBTC", "U": 157, "u": 160, "b": [["0.0024", "10"]], "a": [["0.0026", "100"], ["0.0027", "0"]]}  # fmt: skip
    diff = bp.parse_message({"stream": "bnbbtc@depth@100ms", "data": data}, now_ms=1)
    assert isinstance(diff, DepthDiff) and diff.symbol == "BNBBTC" and (diff.first_id, diff.last_id) == (157, 160)
    assert diff.bids == ((Decimal("0.0024"), Decimal("10"), 160),) and diff.ts_ms == 1672515782136
    assert diff.asks[1] == (Decimal("0.0027"), Decimal("0"), 160)


def test_rest_depth_is_a_snapshot_at_last_update_id():
    payload = {"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": [["4.00000200", "12.00000000"]]}  # fmt: skip
    snap = bp.depth_snapshot("BNBBTC", payload, limit=1000)
    assert snap is not None and snap.sequence == 1027024 and snap.limit == 1000
    assert snap.bids == ((Decimal("4.00000000"), Decimal("431.00000000")),)
    assert bp.depth_snapshot("BNBBTC", {"lastUpdateId": None, "bids": [], "asks": []}, limit=5) is None


def test_server_shutdown_and_library_errors_are_control():
    assert bp.parse_message({"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": 1}}) == FeedControl(
        "shutdown", "1"
    )
    closed = bp.parse_message(
        {"e": "error", "type": "BinanceWebsocketClosed", "m": "Connection closed. Reconnecting..."}
    )
    assert isinstance(closed, FeedControl) and closed.kind == "closed"


def test_replies_are_ignored():
    assert bp.parse_message({"result": None, "id": 1}) is None


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1,2]", orjson.dumps({"stream": "x@trade", "data": {"e": "trade", "s": "X"}}), b'{"foo": 1}'],
)
def test_malformed_frames_raise_malformed(raw):
    with pytest.raises(MalformedMessage):
        bp.parse_raw(raw)


def test_rest_kline_row():
    row = [1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100", "148976.11427815", 1499644799999, "2434.19055334", 308, "1756.87402397", "28.46694368", "0"]  # fmt: skip
    k = bp.kline_row("BNBBTC", "1d", row)
    assert (
        k.high == Decimal("0.80000000")
        and k.close == Decimal("0.01577100")
        and k.quote_volume == Decimal("2434.19055334")
    )


def test_stream_names_lowercase():
    names = bp.stream_names(["BTCUSDT"], ("1m", "1h"))
    assert "btcusdt@trade" in names and "btcusdt@kline_1h" in names and "btcusdt@depth@100ms" in names
    assert not any("bookTicker" in n or "depth5" in n for n in names)  # the local book is the book
