"""KuCoin spot WebSocket and REST payloads -> exchange-neutral events (pure, hot path).

KuCoin quirks handled here: candles are [time(s), open, CLOSE, HIGH, LOW, volume, turnover];
match "time" is a nanosecond string; the symbol is in the topic after ":".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from apps.market.events import BookSnapshot, KlineEvent, MarketEvent, TickerEvent, TradeEvent
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.symbols import KUCOIN_TYPES, KUCOIN_TYPES_REVERSE, TIMEFRAME_MS, to_kucoin

EXCHANGE = "kucoin"
_HUNDRED = Decimal(100)


def parse_raw(raw: bytes | str) -> MarketEvent | FeedControl | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"kucoin: not JSON: {exc}") from None
    return parse_message(message)


def parse_message(message: Any) -> MarketEvent | FeedControl | None:
    if not isinstance(message, dict):
        raise MalformedMessage(f"kucoin: expected an object, got {type(message).__name__}")
    kind = message.get("type")
    if kind != "message":
        if kind == "error":
            return FeedControl("error", str(message.get("data") or message.get("code") or ""))
        return None  # welcome, ack, pong, notice
    topic = message.get("topic")
    data = message.get("data")
    if not isinstance(topic, str) or not isinstance(data, dict):
        raise MalformedMessage("kucoin: message without topic or data")
    prefix, _, tail = topic.partition(":")
    handler = _BY_TOPIC.get(prefix)
    if handler is None:
        return None
    try:
        return handler(data, tail, message)
    except (KeyError, TypeError, IndexError, ArithmeticError, ValueError) as exc:
        raise MalformedMessage(f"kucoin: bad payload on {topic}: {exc!r}") from None


def _neutral(symbol: str) -> str:
    return symbol.replace("-", "")


def _match(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> TradeEvent:
    return TradeEvent(
        EXCHANGE,
        _neutral(d.get("symbol") or tail),
        str(d["tradeId"]),
        Decimal(d["price"]),
        Decimal(d["size"]),
        d["side"],
        int(d["time"]) // 1_000_000,
    )


def _ticker(d: dict[str, Any], tail: str, m: dict[str, Any]) -> BookSnapshot:
    # /market/ticker is KuCoin's top of book (+ last trade); 24h stats come from REST stats.
    symbol = m["subject"] if tail == "all" else tail
    return BookSnapshot(
        EXCHANGE,
        _neutral(symbol),
        ((Decimal(d["bestBid"]), Decimal(d["bestBidSize"])),),
        ((Decimal(d["bestAsk"]), Decimal(d["bestAskSize"])),),
        int(d["time"]),
        int(d.get("sequence") or 0),
    )


def _depth5(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> BookSnapshot:
    bids = tuple((Decimal(p), Decimal(q)) for p, q, *_ in d["bids"])
    asks = tuple((Decimal(p), Decimal(q)) for p, q, *_ in d["asks"])
    return BookSnapshot(EXCHANGE, _neutral(tail), bids, asks, int(d["timestamp"]))


def _candles(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> KlineEvent:
    symbol, _, ktype = tail.rpartition("_")
    row = d["candles"]
    timeframe = KUCOIN_TYPES_REVERSE[ktype]
    ts = int(d["time"])
    # The doc says "us" but the example has 19 digits (ns): normalise by magnitude.
    while ts > 10**13:
        ts //= 1000
    return _candle(_neutral(d.get("symbol") or symbol), timeframe, row, closed=False, ts_ms=ts)


def _candle(symbol: str, timeframe: str, row: list[Any], *, closed: bool, ts_ms: int) -> KlineEvent:
    return KlineEvent(
        EXCHANGE,
        symbol,
        timeframe,
        int(row[0]) * 1000,
        Decimal(row[1]),
        Decimal(row[3]),
        Decimal(row[4]),
        Decimal(row[2]),
        Decimal(row[5]),
        Decimal(row[6]),
        closed,
        ts_ms,
    )


_BY_TOPIC = {
    "/market/match": _match,
    "/market/ticker": _ticker,
    "/spotMarket/level2Depth5": _depth5,
    "/market/candles": _candles,
}


def candle_row(symbol: str, timeframe: str, row: list[Any]) -> KlineEvent:
    """A REST /api/v1/market/candles row; ``ts_ms`` is the candle's close time."""
    open_ms = int(row[0]) * 1000
    return _candle(symbol, timeframe, row, closed=True, ts_ms=open_ms + TIMEFRAME_MS[timeframe] - 1)


def stats_ticker(symbol: str, d: dict[str, Any]) -> TickerEvent:
    """A REST /api/v1/market/stats (or allTickers entry) -> 24h ticker."""
    last = Decimal(d["last"])
    change_price = Decimal(d.get("changePrice") or 0)
    opened = last - change_price
    return TickerEvent(
        EXCHANGE,
        symbol,
        last,
        opened,
        Decimal(d["high"]),
        Decimal(d["low"]),
        Decimal(d["vol"]),
        Decimal(d["volValue"]),
        Decimal(d.get("changeRate") or 0) * _HUNDRED,
        int(d.get("time") or 0),
    )


def topics(symbols: list[str], timeframes: tuple[str, ...]) -> list[str]:
    """Subscription topics for one feed (multi-symbol topics take up to 100 symbols)."""
    names = [to_kucoin(s) for s in symbols]
    joined = ",".join(names)
    out = [f"/market/match:{joined}", f"/market/ticker:{joined}", f"/spotMarket/level2Depth5:{joined}"]
    for name in names:
        out += [f"/market/candles:{name}_{KUCOIN_TYPES[tf]}" for tf in timeframes]
    return out
