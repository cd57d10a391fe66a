from __future__ import annotations

from decimal import Decimal

import pytest

from apps.market.events import BookSnapshot, TradeEvent
from apps.portfolio import books
from tests.factories import instrument_make

D = Decimal


@pytest.fixture(autouse=True)
def _clean_process_state(paper_state_clean):
    yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="trader", password="pw-123456789")


@pytest.fixture
def btc(db):
    return instrument_make(step_size=D("0.001"), min_qty=D("0.001"))


@pytest.fixture
def kc_btc(db):
    return instrument_make(
        "kucoin", tick_size=D("0.1"), step_size=D("0.00000001"), max_qty=D("10000000000"), min_notional=D("0.1")
    )


@pytest.fixture
def make_portfolio(user):
    from apps.portfolio.services import portfolio_create

    def make(**kwargs):
        kwargs.setdefault("name", f"p{make.count}")
        kwargs.setdefault("starting_balances", {"USDT": "10000", "BTC": "1"})
        kwargs.setdefault("latency_ms", 0)
        make.count += 1
        return portfolio_create(owner=user, **kwargs)

    make.count = 0
    return make


def make_book(asks, bids, *, exchange="binance", symbol="BTCUSDT", ts_ms=1_000, update_id=1) -> BookSnapshot:
    return BookSnapshot(
        exchange=exchange,
        symbol=symbol,
        asks=tuple((D(p), D(q)) for p, q in asks),
        bids=tuple((D(p), D(q)) for p, q in bids),
        ts_ms=ts_ms,
        update_id=update_id,
    )


def make_trade(price, qty, *, exchange="binance", symbol="BTCUSDT", ts_ms=2_000, trade_id="t1", taker="sell"):
    return TradeEvent(
        exchange=exchange,
        symbol=symbol,
        trade_id=trade_id,
        price=D(price),
        quantity=D(qty),
        taker_side=taker,
        ts_ms=ts_ms,
    )


# A book with three ask and three bid levels, mid 100.
STD_ASKS = [("100.50", "0.5"), ("101.00", "1.0"), ("102.00", "2.0")]
STD_BIDS = [("99.50", "0.5"), ("99.00", "1.0"), ("98.00", "2.0")]


@pytest.fixture
def std_book(btc):
    book = make_book(STD_ASKS, STD_BIDS)
    books.book_record(book)
    return book
