"""Market pushes to the Channels layer: group names and the message shape (pure helpers).

Group: ``market.<exchange>.<symbol>`` (e.g. ``market.binance.BTCUSDT``). The feed hub sends
at most ``MARKET_PUSH_HZ`` messages per symbol per second (coalesced), each:

    {
      "type": "market.update",             # consumers implement market_update(self, event)
      "exchange": "binance", "symbol": "BTCUSDT",
      "ticker": {"last": "67000.1", "open": "...", "high": "...", "low": "...",
                 "volume": "...", "quote_volume": "...", "change_pct": "1.23", "ts": 1700000000000} | null,
      "book": {"bid": "67000.0", "bid_qty": "1.2", "ask": "67000.2", "ask_qty": "0.4",
               "bids": [["67000.0", "1.2"], ...], "asks": [...], "ts": ...} | null,  # <= 20 a side
      "candles": {"1m": {"time": 1700000000, "open": 1.0, "high": 1.0, "low": 1.0,
                         "close": 1.0, "volume": 1.0}, "5m": {...}, ...},   # forming, floats
      "closed": [{"timeframe": "1m", "time": ..., "open": ..., ...}],    # closed since last push
      "trades": [{"id": "1", "price": "67000.1", "qty": "0.01", "side": "buy", "ts": ...}],  # <= 20 new
      "indicators": {"1m": <whatever the indicator engine returned, JSON-safe>},
    }

Prices and sizes are strings (exact Decimals); chart values ("candles", "closed") are floats
with ``time`` in seconds, as lightweight-charts wants.
"""

from __future__ import annotations

from typing import Any

from apps.market.events import BookSnapshot, KlineEvent, TickerEvent, TradeEvent

MESSAGE_TYPE = "market.update"
# Book levels a side in a push: what the market page shows (12) with some room. The feed's
# books are deeper (apps.market.feeds.local_book.BOOK_LEVELS): that depth is for the fill
# engine and the cache, not for every browser several times a second.
PUSH_LEVELS = 20


def group_name(exchange: str, symbol: str) -> str:
    return f"market.{exchange}.{symbol}"


def candle_chart(c: KlineEvent) -> dict[str, Any]:
    return {
        "time": c.open_time_ms // 1000,
        "open": float(c.open),
        "high": float(c.high),
        "low": float(c.low),
        "close": float(c.close),
        "volume": float(c.volume),
    }


def ticker_payload(t: TickerEvent) -> dict[str, Any]:
    return {
        "last": str(t.last),
        "open": str(t.open),
        "high": str(t.high),
        "low": str(t.low),
        "volume": str(t.volume),
        "quote_volume": str(t.quote_volume),
        "change_pct": str(t.change_pct),
        "ts": t.ts_ms,
    }


def book_payload(b: BookSnapshot) -> dict[str, Any]:
    bid = b.bids[0] if b.bids else (None, None)
    ask = b.asks[0] if b.asks else (None, None)
    return {
        "bid": None if bid[0] is None else str(bid[0]),
        "bid_qty": None if bid[1] is None else str(bid[1]),
        "ask": None if ask[0] is None else str(ask[0]),
        "ask_qty": None if ask[1] is None else str(ask[1]),
        "bids": [[str(p), str(q)] for p, q in b.bids[:PUSH_LEVELS]],
        "asks": [[str(p), str(q)] for p, q in b.asks[:PUSH_LEVELS]],
        "ts": b.ts_ms,
    }


def trade_payload(t: TradeEvent) -> dict[str, Any]:
    return {"id": t.trade_id, "price": str(t.price), "qty": str(t.quantity), "side": t.taker_side, "ts": t.ts_ms}


def market_update_message(
    *,
    exchange: str,
    symbol: str,
    ticker: TickerEvent | None,
    book: BookSnapshot | None,
    forming: dict[str, KlineEvent | None],
    closed: list[KlineEvent],
    trades: list[TradeEvent],
    indicators: dict[str, Any],
) -> dict[str, Any]:
    return {
        "type": MESSAGE_TYPE,
        "exchange": exchange,
        "symbol": symbol,
        "ticker": ticker_payload(ticker) if ticker else None,
        "book": book_payload(book) if book else None,
        "candles": {tf: candle_chart(c) for tf, c in forming.items() if c is not None},
        "closed": [{"timeframe": c.timeframe, **candle_chart(c)} for c in closed],
        "trades": [trade_payload(t) for t in trades],
        "indicators": indicators,
    }
