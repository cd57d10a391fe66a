"""Exchange-neutral market events (pure: no ORM). Prices and sizes are Decimal.

Adapters turn Binance and KuCoin payloads into these; the hub, the candle aggregator, the
indicator engine and the paper order matcher consume them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TradeEvent:
    exchange: str
    symbol: str  # neutral form, e.g. BTCUSDT
    trade_id: str
    price: Decimal
    quantity: Decimal
    taker_side: str  # "buy" | "sell"
    ts_ms: int


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Top levels of the L2 book, best first."""

    exchange: str
    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts_ms: int
    update_id: int = 0

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True, slots=True)
class KlineEvent:
    exchange: str
    symbol: str
    timeframe: str
    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    closed: bool
    ts_ms: int


@dataclass(frozen=True, slots=True)
class TickerEvent:
    """24h rolling statistics."""

    exchange: str
    symbol: str
    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal
    change_pct: Decimal
    ts_ms: int


MarketEvent = TradeEvent | BookSnapshot | KlineEvent | TickerEvent
EventListener = Callable[[MarketEvent], None]

_listeners: list[EventListener] = []


def register_event_listener(listener: EventListener) -> None:
    """Components inside the feed process (e.g. the paper order matcher) subscribe here.
    Listeners run on the hub's hot path: they must be cheap and must not raise."""
    if listener not in _listeners:
        _listeners.append(listener)


def event_listeners() -> tuple[EventListener, ...]:
    return tuple(_listeners)
