"""Market state for API tests: instrument rows, cached ticker/book, candles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from apps.market.cache import cache_key, cache_write_many
from apps.market.events import BookSnapshot, TickerEvent
from apps.market.models import Candle
from tests.factories import instrument_make

__all__ = ["candles_make", "instrument_make", "market_state_seed"]

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def market_state_seed(exchange: str = "binance", symbol: str = "BTCUSDT", mid: Decimal = D("50000")) -> None:
    """A live-looking book and ticker in the shared cache, as the feed hub writes them."""
    book = BookSnapshot(
        exchange=exchange,
        symbol=symbol,
        bids=((mid - D("0.5"), D("5")), (mid - D("1"), D("10"))),
        asks=((mid + D("0.5"), D("5")), (mid + D("1"), D("10"))),
        ts_ms=1_767_225_600_000,
    )
    ticker = TickerEvent(
        exchange=exchange,
        symbol=symbol,
        last=mid,
        open=mid - 100,
        high=mid + 200,
        low=mid - 300,
        volume=D("1234.5"),
        quote_volume=D("61725000"),
        change_pct=D("0.2"),
        ts_ms=1_767_225_600_000,
    )
    cache_write_many({cache_key(exchange, symbol, "book"): book, cache_key(exchange, symbol, "ticker"): ticker})


def candles_make(exchange: str = "binance", symbol: str = "BTCUSDT", timeframe: str = "1m", count: int = 10) -> None:
    Candle.objects.bulk_create(
        Candle(
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            open_time=T0 + timedelta(minutes=i),
            open=D(100 + i),
            high=D(101 + i),
            low=D(99 + i),
            close=D(100 + i),
            volume=D(1),
            quote_volume=D(100),
            trades=3,
        )
        for i in range(count)
    )
