"""Where the order service gets the live book and last price.

In the feed process the matcher records every book snapshot and trade here (a short
history per symbol, so the latency model can pick the book the order would have seen);
every other process falls back to the shared cache (apps.market.cache).
"""

from __future__ import annotations

import threading
from collections import deque
from decimal import Decimal

from apps.market.cache import book_get, recent_trades_get
from apps.market.events import BookSnapshot, TradeEvent
from apps.portfolio.arrival import book_at

HISTORY = 64

_lock = threading.Lock()
_books: dict[tuple[str, str], deque[BookSnapshot]] = {}
_last_trade: dict[tuple[str, str], TradeEvent] = {}


def book_record(book: BookSnapshot) -> None:
    with _lock:
        history = _books.setdefault((book.exchange, book.symbol), deque(maxlen=HISTORY))
        if history and book.ts_ms < history[-1].ts_ms:
            return  # out of order: keep the history sorted for book_at()
        history.append(book)


def trade_record(trade: TradeEvent) -> None:
    _last_trade[(trade.exchange, trade.symbol)] = trade


def book_for(*, exchange: str, symbol: str, at_ms: int | None = None) -> BookSnapshot | None:
    """The book an order arriving at ``at_ms`` sees: from the local history when we have one,
    else the latest cached book."""
    with _lock:
        history = list(_books.get((exchange, symbol), ()))
    if history:
        return history[-1] if at_ms is None else book_at(history, at_ms)
    return _cached_book(exchange, symbol)


def last_price(*, exchange: str, symbol: str) -> Decimal | None:
    """The last print (local, else the shared cache's recent trades), else the book mid."""
    trade = _last_trade.get((exchange, symbol))
    if trade is None and not _books.get((exchange, symbol)):
        trade = _cached_last_trade(exchange, symbol)
    if trade is not None:
        return trade.price
    book = book_for(exchange=exchange, symbol=symbol)
    return book.mid if book is not None else None


def mid_price(*, exchange: str, symbol: str) -> Decimal | None:
    book = book_for(exchange=exchange, symbol=symbol)
    return book.mid if book is not None else None


def books_clear() -> None:
    """Tests and portfolio resets of the process state."""
    with _lock:
        _books.clear()
    _last_trade.clear()


def _cached_last_trade(exchange: str, symbol: str) -> TradeEvent | None:
    try:
        trades = recent_trades_get(exchange, symbol, limit=1)
    except Exception:  # a cache outage means "no last price", never a failed order
        return None
    return trades[0] if trades else None


def _cached_book(exchange: str, symbol: str) -> BookSnapshot | None:
    try:
        return book_get(exchange, symbol)
    except Exception:  # a cache outage means "no book", never a crash
        return None
