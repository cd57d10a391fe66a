"""Null-safe parsing: a null anywhere in a payload is "no value", never a crash. Every parser
of both exchanges gets every field (nested ones too) set to null in turn, and must answer an
event or None without raising."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from apps.market.events import TickerEvent
from apps.market.feeds import binance_parse as bp
from apps.market.feeds import kucoin_parse as kp

BN_KLINE = {"t": 1672515780000, "T": 1672515839999, "s": "BNBBTC", "i": "1m", "f": 100, "L": 200, "o": "0.0010", "c": "0.0020", "h": "0.0025", "l": "0.0015", "v": "1000", "n": 100, "x": False, "q": "1.0000", "V": "500", "Q": "0.500", "B": "123456"}  # fmt: skip
BINANCE_FRAMES = [
    {
        "stream": "bnbbtc@trade",
        "data": {
            "e": "trade",
            "E": 1672515782136,
            "s": "BNBBTC",
            "t": 12345,
            "p": "0.001",
            "q": "100",
            "T": 1672515782136,
            "m": True,
            "M": True,
        },
    },  # fmt: skip
    {
        "e": "aggTrade",
        "E": 1672515782136,
        "s": "BNBBTC",
        "a": 12345,
        "p": "0.001",
        "q": "100",
        "f": 100,
        "l": 105,
        "T": 1672515782136,
        "m": True,
        "M": True,
    },  # fmt: skip
    {"e": "kline", "E": 1672515782136, "s": "BNBBTC", "k": BN_KLINE},
    {
        "e": "24hrMiniTicker",
        "E": 1672515782136,
        "s": "BNBBTC",
        "c": "0.0025",
        "o": "0.0010",
        "h": "0.0025",
        "l": "0.0010",
        "v": "10000",
        "q": "18",
    },  # fmt: skip
    {
        "e": "24hrTicker",
        "E": 1672515782136,
        "s": "BNBBTC",
        "p": "0.0015",
        "P": "250.00",
        "w": "0.0018",
        "x": "0.0009",
        "c": "0.0025",
        "Q": "10",
        "b": "0.0024",
        "B": "10",
        "a": "0.0026",
        "A": "100",
        "o": "0.0010",
        "h": "0.0025",
        "l": "0.0010",
        "v": "10000",
        "q": "18",
        "O": 0,
        "C": 86400000,
        "F": 0,
        "L": 18150,
        "n": 18151,
    },  # fmt: skip
    {
        "stream": "bnbbtc@depth@100ms",
        "data": {
            "e": "depthUpdate",
            "E": 1672515782136,
            "s": "BNBBTC",
            "U": 157,
            "u": 160,
            "b": [["0.0024", "10"]],
            "a": [["0.0026", "100"]],
        },
    },  # fmt: skip
    {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": 1770123456789}},
]
BN_ROW = [1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100", "148976.11427815", 1499644799999, "2434.19055334", 308, "1756.87402397", "28.46694368", "0"]  # fmt: skip
KUCOIN_FRAMES = [
    {
        "topic": "/market/match:BTC-USDT",
        "type": "message",
        "subject": "trade.l3match",
        "data": {
            "makerOrderId": "a",
            "price": "67523",
            "sequence": "1",
            "side": "buy",
            "size": "0.003",
            "symbol": "BTC-USDT",
            "takerOrderId": "b",
            "time": "1729843222921000000",
            "tradeId": "11067996711960577",
            "type": "match",
        },
    },  # fmt: skip
    {
        "topic": "/market/level2:BTC-USDT",
        "type": "message",
        "subject": "trade.l2update",
        "data": {
            "changes": {"asks": [["18906", "0.00331", "14103845"]], "bids": [["18891.9", "0", "14103847"]]},
            "sequenceEnd": 14103847,
            "sequenceStart": 14103845,
            "symbol": "BTC-USDT",
            "time": 1663747970273,
        },
    },  # fmt: skip
    {
        "topic": "/market/candles:BTC-USDT_1hour",
        "type": "message",
        "subject": "trade.candles.update",
        "data": {
            "symbol": "BTC-USDT",
            "candles": ["1729839600", "67644.9", "67437.6", "67724.8", "67243.8", "44.88321441", "3027558.991928447"],
            "time": 1729842192785164840,
        },
    },  # fmt: skip
    {"id": "1", "type": "error", "code": 404, "data": None},
]
KC_STATS = {"time": 1729175612158, "symbol": "BTC-USDT", "buy": "66982.4", "sell": "66982.5", "changeRate": "-0.0114", "changePrice": "-778.1", "high": "68107.7", "low": "66683.3", "vol": "1738.02898182", "volValue": "117321982.415978333", "last": "66981.5", "averagePrice": "67281.21437289", "takerFeeRate": "0.001", "makerFeeRate": "0.001", "takerCoefficient": "1", "makerCoefficient": "1"}  # fmt: skip
BN_DEPTH = {"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": [["4.00000200", "12.00000000"]]}  # fmt: skip
KC_BOOK = {"time": 1729172965609, "sequence": "3262786978", "bids": [["6500.12", "0.45054140"]], "asks": [["6500.16", "0.57753524"]]}  # fmt: skip
KC_ROW = ["1566789720", "10411.5", "10401.9", "10411.5", "10396.3", "29.11357276", "302889.301529914"]


def _nulled(value: Any) -> Iterator[Any]:
    """``value`` with each field (and each nested field) set to None in turn, and None itself."""
    yield None
    items = (
        list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    )
    for key, child in items:
        for replacement in _nulled(child):
            copied = copy.deepcopy(value)
            copied[key] = replacement
            yield copied


def _cases(samples: list[Any], parse: Callable[[Any], Any]) -> list[tuple[Callable[[Any], Any], Any]]:
    return [(parse, variant) for sample in samples for variant in _nulled(sample)]


CASES = (
    _cases(BINANCE_FRAMES, lambda m: bp.parse_message(m, now_ms=1))
    + _cases([BN_ROW], lambda r: bp.kline_row("BNBBTC", "1m", r))
    + _cases([BN_DEPTH], lambda d: bp.depth_snapshot("BNBBTC", d, limit=1000))
    + _cases(KUCOIN_FRAMES, kp.parse_message)
    + _cases([KC_STATS], lambda d: kp.stats_ticker("BTCUSDT", d))
    + _cases([KC_ROW], lambda r: kp.candle_row("BTCUSDT", "1m", r))
    + _cases([KC_BOOK], lambda d: kp.book_snapshot("BTCUSDT", d, limit=100))
)


@pytest.mark.parametrize(("parse", "payload"), CASES)
def test_a_null_anywhere_is_no_value_never_a_crash(parse: Callable[[Any], Any], payload: Any) -> None:
    parse(payload)  # an event or None; any exception fails


def test_quiet_kucoin_pair_stats_parse_as_a_ticker_without_range() -> None:
    quiet = {**KC_STATS, "buy": None, "sell": None, "high": None, "low": None, "changeRate": None}
    quiet |= {"changePrice": None, "averagePrice": None, "vol": "0", "volValue": "0"}
    ticker = kp.stats_ticker("BTCUSDT", quiet)
    assert isinstance(ticker, TickerEvent)
    assert ticker.last == ticker.high == ticker.low == ticker.open == Decimal("66981.5")
    assert ticker.change_pct == 0 and ticker.volume == 0
    assert kp.stats_ticker("BTCUSDT", {**quiet, "last": None}) is None  # never traded: no ticker


def test_kucoin_empty_book_side_is_an_empty_side() -> None:
    book = kp.book_snapshot("BTCUSDT", {**KC_BOOK, "bids": None}, limit=100)
    assert book is not None and book.bids == () and book.asks[0][0] == Decimal("6500.16")


def test_a_diff_with_a_null_change_is_no_diff() -> None:
    """A lost change would leave a stale level: the whole diff is dropped, and the next one's
    ids then show the gap (the local book resyncs)."""
    frame = copy.deepcopy(BINANCE_FRAMES[-2])
    frame["data"]["b"][0][1] = None
    assert bp.parse_message(frame, now_ms=1) is None
    level2 = copy.deepcopy(next(f for f in KUCOIN_FRAMES if f.get("subject") == "trade.l2update"))
    level2["data"]["changes"]["asks"][0][2] = None
    assert kp.parse_message(level2) is None
