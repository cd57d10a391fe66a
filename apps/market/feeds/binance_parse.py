"""Binance spot stream payloads -> exchange-neutral events (pure, hot path).

Accepts raw payloads and combined-stream envelopes ``{"stream": ..., "data": ...}``.
Prices and sizes go straight from the exchange's strings into Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from apps.market.events import BookSnapshot, KlineEvent, MarketEvent, TickerEvent, TradeEvent
from apps.market.feeds.control import FeedControl, MalformedMessage

EXCHANGE = "binance"
_HUNDRED = Decimal(100)


def parse_raw(raw: bytes | str, *, now_ms: int = 0) -> MarketEvent | FeedControl | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"binance: not JSON: {exc}") from None
    return parse_message(message, now_ms=now_ms)


def parse_message(message: Any, *, now_ms: int = 0) -> MarketEvent | FeedControl | None:
    """One decoded frame -> an event, a FeedControl, or None for replies we ignore
    (``{"result": null, "id": 1}``). Raises MalformedMessage for anything unexpected."""
    if not isinstance(message, dict):
        raise MalformedMessage(f"binance: expected an object, got {type(message).__name__}")
    stream = message.get("stream")
    data = message["data"] if stream is not None and "data" in message else message
    if not isinstance(data, dict):
        raise MalformedMessage("binance: data is not an object")
    try:
        return _dispatch(data, stream or "", now_ms)
    except (KeyError, TypeError, ArithmeticError, ValueError) as exc:
        raise MalformedMessage(f"binance: bad payload on {stream or '?'}: {exc!r}") from None


def _dispatch(data: dict[str, Any], stream: str, now_ms: int) -> MarketEvent | FeedControl | None:
    kind = data.get("e")
    if kind is not None:
        handler = _BY_EVENT.get(kind)
        if handler is None:
            return None
        return handler(data)
    if "lastUpdateId" in data:
        return _partial_depth(data, stream, now_ms)
    if "u" in data and "b" in data and "a" in data:
        return _book_ticker(data, now_ms)
    if "result" in data or "id" in data:
        return None
    raise MalformedMessage("binance: unknown payload")


def _trade(d: dict[str, Any]) -> TradeEvent:
    return TradeEvent(
        EXCHANGE, d["s"], str(d["t"]), Decimal(d["p"]), Decimal(d["q"]), "sell" if d["m"] else "buy", d["T"]
    )


def _agg_trade(d: dict[str, Any]) -> TradeEvent:
    return TradeEvent(
        EXCHANGE, d["s"], str(d["a"]), Decimal(d["p"]), Decimal(d["q"]), "sell" if d["m"] else "buy", d["T"]
    )


def _kline(d: dict[str, Any]) -> KlineEvent:
    k = d["k"]
    return KlineEvent(
        EXCHANGE,
        d["s"],
        k["i"],
        k["t"],
        Decimal(k["o"]),
        Decimal(k["h"]),
        Decimal(k["l"]),
        Decimal(k["c"]),
        Decimal(k["v"]),
        Decimal(k["q"]),
        bool(k["x"]),
        d["E"],
    )


def _ticker(d: dict[str, Any]) -> TickerEvent:
    return TickerEvent(
        EXCHANGE,
        d["s"],
        Decimal(d["c"]),
        Decimal(d["o"]),
        Decimal(d["h"]),
        Decimal(d["l"]),
        Decimal(d["v"]),
        Decimal(d["q"]),
        Decimal(d["P"]),
        d["E"],
    )


def _mini_ticker(d: dict[str, Any]) -> TickerEvent:
    last, opened = Decimal(d["c"]), Decimal(d["o"])
    change = (last - opened) / opened * _HUNDRED if opened else Decimal(0)
    return TickerEvent(
        EXCHANGE,
        d["s"],
        last,
        opened,
        Decimal(d["h"]),
        Decimal(d["l"]),
        Decimal(d["v"]),
        Decimal(d["q"]),
        change,
        d["E"],
    )


def _book_ticker(d: dict[str, Any], now_ms: int) -> BookSnapshot:
    return BookSnapshot(
        EXCHANGE,
        d["s"],
        ((Decimal(d["b"]), Decimal(d["B"])),),
        ((Decimal(d["a"]), Decimal(d["A"])),),
        d.get("E", now_ms),
        d["u"],
    )


def _partial_depth(d: dict[str, Any], stream: str, now_ms: int) -> BookSnapshot:
    # Partial depth carries no symbol: it is only in the stream name ("btcusdt@depth5@100ms").
    symbol = stream.split("@", 1)[0].upper()
    if not symbol:
        raise MalformedMessage("binance: partial depth without a stream name")
    bids = tuple((Decimal(p), Decimal(q)) for p, q in d["bids"])
    asks = tuple((Decimal(p), Decimal(q)) for p, q in d["asks"])
    return BookSnapshot(EXCHANGE, symbol, bids, asks, d.get("E", now_ms), d["lastUpdateId"])


def _server_shutdown(d: dict[str, Any]) -> FeedControl:
    return FeedControl("shutdown", str(d.get("E", "")))


def _library_error(d: dict[str, Any]) -> FeedControl:
    # python-binance reports socket trouble in-band: {"e": "error", "type": ..., "m": ...}.
    kind = "closed" if "Closed" in str(d.get("type", "")) else "error"
    return FeedControl(kind, f"{d.get('type', '')}: {d.get('m', '')}")


_BY_EVENT = {
    "trade": _trade,
    "aggTrade": _agg_trade,
    "kline": _kline,
    "24hrTicker": _ticker,
    "24hrMiniTicker": _mini_ticker,
    "serverShutdown": _server_shutdown,
    "error": _library_error,
}


def kline_row(symbol: str, timeframe: str, row: list[Any]) -> KlineEvent:
    """A REST /api/v3/klines row (open time, o, h, l, c, v, close time, quote volume, ...)."""
    return KlineEvent(
        EXCHANGE,
        symbol,
        timeframe,
        int(row[0]),
        Decimal(row[1]),
        Decimal(row[2]),
        Decimal(row[3]),
        Decimal(row[4]),
        Decimal(row[5]),
        Decimal(row[7]),
        True,
        int(row[6]),
    )


def stream_names(symbols: list[str], timeframes: tuple[str, ...], *, depth: int = 5) -> list[str]:
    """The streams one feed subscribes to (lowercase, as the combined endpoint wants)."""
    names: list[str] = []
    for symbol in symbols:
        s = symbol.lower()
        names += [f"{s}@trade", f"{s}@bookTicker", f"{s}@ticker", f"{s}@depth{depth}@100ms"]
        names += [f"{s}@kline_{tf}" for tf in timeframes]
    return names
