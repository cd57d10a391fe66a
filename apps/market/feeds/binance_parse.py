"""Binance spot stream payloads -> exchange-neutral events (pure, hot path).

Accepts raw payloads and combined-stream envelopes ``{"stream": ..., "data": ...}``.
Prices and sizes go straight from the exchange's strings into Decimal. The book comes as diff
depth (``<symbol>@depth@100ms``, a ``DepthDiff``) on top of a REST snapshot (``depth_snapshot``):
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

EXCHANGE = "binance"
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


def parse_raw(raw: bytes | str, *, now_ms: int = 0) -> MarketEvent | DepthDiff | FeedControl | None:
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"binance: not JSON: {exc}") from None
    return parse_message(message, now_ms=now_ms)


def parse_message(message: Any, *, now_ms: int = 0) -> MarketEvent | DepthDiff | FeedControl | None:
    """One decoded frame -> an event, a FeedControl, or None for replies we ignore
    (``{"result": null, "id": 1}``) and for payloads whose essential values are null.
    Raises MalformedMessage for anything unexpected."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise MalformedMessage(f"binance: expected an object, got {type(message).__name__}")
    stream = message.get("stream")
    data = message["data"] if "stream" in message and "data" in message else message
    if data is None:
        return None
    if not isinstance(data, dict):
        raise MalformedMessage("binance: data is not an object")
    try:
        return _dispatch(data, stream or "", now_ms)
    except (KeyError, TypeError, ArithmeticError, ValueError) as exc:
        raise MalformedMessage(f"binance: bad payload on {stream or '?'}: {exc!r}") from None


def _dispatch(data: dict[str, Any], stream: str, now_ms: int) -> MarketEvent | DepthDiff | FeedControl | None:
    kind = data.get("e")
    if kind is not None:
        handler = _BY_EVENT.get(kind)
        if handler is None:
            return None
        return handler(data, now_ms)
    if "result" in data or "id" in data:
        return None
    if "e" in data:
        return None  # an event type of null: no event
    raise MalformedMessage("binance: unknown payload")


def _trade_event(d: dict[str, Any], id_key: str, now_ms: int) -> TradeEvent | None:
    price, qty = dec(d["p"]), dec(d["q"])
    if price is None or qty is None or d["s"] is None or d[id_key] is None or d["m"] is None:
        return None
    ts = d["T"] if d["T"] is not None else d.get("E") or now_ms
    return TradeEvent(EXCHANGE, d["s"], str(d[id_key]), price, qty, "sell" if d["m"] else "buy", ts)


def _trade(d: dict[str, Any], now_ms: int) -> TradeEvent | None:
    return _trade_event(d, "t", now_ms)


def _agg_trade(d: dict[str, Any], now_ms: int) -> TradeEvent | None:
    return _trade_event(d, "a", now_ms)


def _kline(d: dict[str, Any], now_ms: int) -> KlineEvent | None:
    k = d["k"]
    if k is None:
        return None
    symbol = d["s"] if d["s"] is not None else k.get("s")
    return _kline_values(
        symbol, k["i"], k["t"], (k["o"], k["h"], k["l"], k["c"], k["v"], k["q"]), bool(k["x"]), d["E"] or now_ms
    )


def _kline_values(
    symbol: str | None, timeframe: str | None, open_ms: Any, values: tuple, closed: bool, ts_ms: int
) -> KlineEvent | None:
    o, h, low, c = (dec(v) for v in values[:4])
    if symbol is None or timeframe is None or open_ms is None or None in (o, h, low, c):
        return None  # a candle without its prices is no candle
    volume, quote = dec_or(values[4], _ZERO), dec_or(values[5], _ZERO)
    return KlineEvent(EXCHANGE, symbol, timeframe, int(open_ms), o, h, low, c, volume, quote, closed, ts_ms)  # type: ignore[arg-type]


def _ticker_values(d: dict[str, Any], now_ms: int, change_pct: Decimal | None) -> TickerEvent | None:
    last = dec(d["c"])
    if last is None or d["s"] is None:
        return None
    opened = dec_or(d["o"], last)
    if change_pct is None:
        change_pct = (last - opened) / opened * _HUNDRED if opened else Decimal(0)
    return TickerEvent(
        EXCHANGE,
        d["s"],
        last,
        opened,
        dec_or(d["h"], last),
        dec_or(d["l"], last),
        dec_or(d["v"], _ZERO),
        dec_or(d["q"], _ZERO),
        change_pct,
        d["E"] or now_ms,
    )


def _ticker(d: dict[str, Any], now_ms: int) -> TickerEvent | None:
    return _ticker_values(d, now_ms, dec(d["P"]))


def _mini_ticker(d: dict[str, Any], now_ms: int) -> TickerEvent | None:
    return _ticker_values(d, now_ms, None)


def _depth_update(d: dict[str, Any], now_ms: int) -> DepthDiff | None:
    """A diff-depth event; every change carries the event's ``u``. Without its ids, symbol or
    a level's price or size it is no diff (None): the next one then breaks the ids and the
    local book resyncs, as after any lost event."""
    symbol, first, last = d["s"], d["U"], d["u"]
    if symbol is None or first is None or last is None:
        return None
    bids, asks = changes(d["b"], int(last)), changes(d["a"], int(last))
    if bids is None or asks is None:
        return None
    return DepthDiff(symbol, int(first), int(last), bids, asks, d["E"] or now_ms)


def _server_shutdown(d: dict[str, Any], now_ms: int) -> FeedControl:
    return FeedControl("shutdown", str(d.get("E") or ""))


def _library_error(d: dict[str, Any], now_ms: int) -> FeedControl:
    # python-binance reports socket trouble in-band: {"e": "error", "type": ..., "m": ...}.
    kind = "closed" if "Closed" in str(d.get("type") or "") else "error"
    return FeedControl(kind, f"{d.get('type') or ''}: {d.get('m') or ''}")


_BY_EVENT = {
    "trade": _trade,
    "aggTrade": _agg_trade,
    "kline": _kline,
    "24hrTicker": _ticker,
    "24hrMiniTicker": _mini_ticker,
    "depthUpdate": _depth_update,
    "serverShutdown": _server_shutdown,
    "error": _library_error,
}


def kline_row(symbol: str, timeframe: str, row: list[Any] | None) -> KlineEvent | None:
    """A REST /api/v3/klines row (open time, o, h, l, c, v, close time, quote volume, ...);
    None when the row or its prices are null."""
    if row is None:
        return None
    close_ms = int(row[6]) if row[6] is not None else 0
    return _kline_values(symbol, timeframe, row[0], (row[1], row[2], row[3], row[4], row[5], row[7]), True, close_ms)


def depth_snapshot(symbol: str, payload: dict[str, Any] | None, *, limit: int) -> DepthSnapshot | None:
    """GET /api/v3/depth: the book at ``lastUpdateId`` (no timestamp: the diffs carry the time).
    A level with a null is left out (the book can only miss liquidity, never invent it)."""
    if payload is None or payload.get("lastUpdateId") is None:
        return None
    bids, asks = levels(payload.get("bids")), levels(payload.get("asks"))
    return DepthSnapshot(symbol, int(payload["lastUpdateId"]), bids, asks, 0, limit)


def stream_names(symbols: list[str], timeframes: tuple[str, ...]) -> list[str]:
    """The streams one feed subscribes to (lowercase, as the combined endpoint wants). The
    book is the diff stream (the top of book too: no bookTicker, which would replace it)."""
    names: list[str] = []
    for symbol in symbols:
        s = symbol.lower()
        names += [f"{s}@trade", f"{s}@ticker", f"{s}@depth@100ms"]
        names += [f"{s}@kline_{tf}" for tf in timeframes]
    return names
