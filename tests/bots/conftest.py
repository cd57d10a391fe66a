from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.market.events import BookSnapshot
from apps.market.models import Candle
from apps.market.services import ms_to_dt
from apps.portfolio import books
from tests.factories import instrument_make

MIN = 60_000
T0 = 1_700_000_040_000 - (1_700_000_040_000 % MIN)


@pytest.fixture(autouse=True)
def _clean_process_state(paper_state_clean):
    yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="botter", password="pw-123456789")


@pytest.fixture
def instrument(db):
    return instrument_make()


@pytest.fixture
def portfolio(user, instrument):
    from apps.portfolio.services import portfolio_create

    return portfolio_create(
        owner=user, name="bots", starting_balances={"USDT": "10000"}, latency_ms=0, latency_jitter_ms=0
    )


def store_candles(closes, *, start_ms=T0, symbol="BTCUSDT", timeframe="1m", volume="50"):
    rows = []
    for i, close in enumerate(closes):
        c = D(str(close))
        rows.append(
            Candle(
                exchange="binance", symbol=symbol, timeframe=timeframe, open_time=ms_to_dt(start_ms + i * MIN),
                open=c, high=c, low=c, close=c, volume=D(volume),
            )
        )  # fmt: skip
    Candle.objects.bulk_create(rows)
    return [start_ms + i * MIN for i in range(len(closes))]


def set_book(mid, *, half_spread="0.5", depth="10", ts_ms=1_000, symbol="BTCUSDT"):
    mid = D(str(mid))
    half = D(half_spread)
    book = BookSnapshot("binance", symbol, ((mid - half, D(depth)),), ((mid + half, D(depth)),), ts_ms)
    books.book_record(book)
    return book
