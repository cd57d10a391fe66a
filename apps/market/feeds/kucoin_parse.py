"""KuCoin spot WebSocket and REST payloads -> exchange-neutral events (pure, hot path).

KuCoin quirks handled here: candles are [time(s), open, CLOSE, HIGH, LOW, volume, turnover];
match "time" is a nanosecond string; the symbol is in the topic after ":". The book comes as
``/market/level2`` updates (a ``DepthDiff``) on top of a REST book (``book_snapshot``):
``apps.market.feeds.local_book`` keeps it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from apps.market.events import KlineEvent, MarketEvent, TickerEvent, TradeEvent
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.local_book import DepthDiff, DepthSnapshot
from apps.market.feeds.nulls import changes, dec, dec_or, levels
from apps.market.feeds.symbols import KUCOIN_TYPES, KUCOIN_TYPES_REVERSE, TIMEFRAME_MS, to_kucoin

EXCHANGE = "kucoin"
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


def parse_raw(raw: bytes | str) -> MarketEvent | DepthDiff | FeedControl | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"kucoin: not JSON: {exc}") from None
    return parse_message(message)


def parse_message(message: Any) -> MarketEvent | DepthDiff | FeedControl | None:
    """One decoded frame -> an event, a FeedControl, or None (control replies, and payloads
    whose essential values are null). Raises MalformedMessage for anything unexpected."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise MalformedMessage(f"kucoin: expected an object, got {type(message).__name__}")
    kind = message.get("type")
    if kind != "message":
        if kind == "error":
            return FeedControl("error", str(message.get("data") or message.get("code") or ""))
        return None  # welcome, ack, pong, notice
    topic = message.get("topic")
    data = message.get("data")
    if topic is None or data is None:
        return None
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


def _match(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> TradeEvent | None:
    price, size, symbol = dec(d["price"]), dec(d["size"]), d.get("symbol") or tail
    if price is None or size is None or not symbol or d["tradeId"] is None or d["side"] is None or d["time"] is None:
        return None
    return TradeEvent(
        EXCHANGE, _neutral(symbol), str(d["tradeId"]), price, size, d["side"], int(d["time"]) // 1_000_000
    )


def _l2update(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> DepthDiff | None:
    """trade.l2update: changes [price, size, sequence] numbered sequenceStart..sequenceEnd.
    Without its ids, symbol or any value of a change it is no diff (None): the next update
    then breaks the sequence and the local book recalibrates, as after any lost update."""
    symbol, first, last, ch = d.get("symbol") or tail, d["sequenceStart"], d["sequenceEnd"], d["changes"]
    if not symbol or first is None or last is None or not isinstance(ch, dict):
        return None
    bids, asks = changes(ch.get("bids")), changes(ch.get("asks"))
    if bids is None or asks is None:
        return None
    return DepthDiff(_neutral(symbol), int(first), int(last), bids, asks, int(d.get("time") or 0))


def _candles(d: dict[str, Any], tail: str, _m: dict[str, Any]) -> KlineEvent | None:
    symbol, _, ktype = tail.rpartition("_")
    row = d["candles"]
    timeframe = KUCOIN_TYPES_REVERSE[ktype]
    if d["time"] is None:
        return None
    ts = int(d["time"])
    # The doc says "us" but the example has 19 digits (ns): normalise by magnitude.
    while ts > 10**13:
        ts //= 1000
    return _candle(_neutral(d.get("symbol") or symbol), timeframe, row, closed=False, ts_ms=ts)


def _candle(symbol: str, timeframe: str, row: list[Any] | None, *, closed: bool, ts_ms: int) -> KlineEvent | None:
    if row is None or row[0] is None:
        return None
    o, c, h, low = dec(row[1]), dec(row[2]), dec(row[3]), dec(row[4])
    if o is None or c is None or h is None or low is None:
        return None  # a candle without its prices is no candle
    volume, turnover = dec_or(row[5], _ZERO), dec_or(row[6], _ZERO)
    return KlineEvent(EXCHANGE, symbol, timeframe, int(row[0]) * 1000, o, h, low, c, volume, turnover, closed, ts_ms)


_BY_TOPIC = {
    "/market/match": _match,
    "/market/level2": _l2update,
    "/market/candles": _candles,
}


def candle_row(symbol: str, timeframe: str, row: list[Any] | None) -> KlineEvent | None:
    """A REST /api/v1/market/candles row; ``ts_ms`` is the candle's close time. None for a null row."""
    if row is None or row[0] is None:
        return None
    open_ms = int(row[0]) * 1000
    return _candle(symbol, timeframe, row, closed=True, ts_ms=open_ms + TIMEFRAME_MS[timeframe] - 1)


def stats_ticker(symbol: str, d: dict[str, Any] | None) -> TickerEvent | None:
    """A REST /api/v1/market/stats (or allTickers entry) -> 24h ticker.

    A quiet pair sends null for what it lacks: no last price (never traded) is no ticker; no
    high/low/change (nothing traded in 24 h) is a range at the last price, 0 % change, 0 volume."""
    if d is None:
        return None
    last = dec(d.get("last"))
    if last is None:
        return None
    opened = last - dec_or(d.get("changePrice"), _ZERO)
    return TickerEvent(
        EXCHANGE,
        symbol,
        last,
        opened,
        dec_or(d.get("high"), last),
        dec_or(d.get("low"), last),
        dec_or(d.get("vol"), _ZERO),
        dec_or(d.get("volValue"), _ZERO),
        dec_or(d.get("changeRate"), _ZERO) * _HUNDRED,
        int(d.get("time") or 0),
    )


def book_snapshot(symbol: str, data: dict[str, Any] | None, *, limit: int) -> DepthSnapshot | None:
    """GET /api/v1/market/orderbook/level2_{20,100}: the book at ``sequence`` (a string). A
    level with a null is left out (the book can only miss liquidity, never invent it)."""
    if data is None or data.get("sequence") is None:
        return None
    bids, asks = levels(data.get("bids")), levels(data.get("asks"))
    return DepthSnapshot(symbol, int(data["sequence"]), bids, asks, int(data.get("time") or 0), limit)


def topics(symbols: list[str], timeframes: tuple[str, ...]) -> list[str]:
    """Subscription topics for one feed (multi-symbol topics take up to 100 symbols). The book
    is the level2 update stream (the top of book too: no /market/ticker, which would replace it)."""
    names = [to_kucoin(s) for s in symbols]
    joined = ",".join(names)
    out = [f"/market/match:{joined}", f"/market/level2:{joined}"]
    for name in names:
        out += [f"/market/candles:{name}_{KUCOIN_TYPES[tf]}" for tf in timeframes]
    return out
