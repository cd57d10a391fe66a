"""Two users and one of every object type owned by Alice; Mallory attacks them."""

from __future__ import annotations

import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.market.events import BookSnapshot
from apps.market.models import Instrument
from apps.portfolio import books
from apps.portfolio.liquidity import liquidity_store
from apps.portfolio.services.instruments import instrument_cache_clear

D = Decimal
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _clean_state():
    cache.clear()
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()
    yield
    cache.clear()
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def mallory(db):
    return get_user_model().objects.create_user(username="mallory", password=PASSWORD)


@pytest.fixture
def alice_api(alice) -> APIClient:
    return bearer(alice)


@pytest.fixture
def mallory_api(mallory) -> APIClient:
    return bearer(mallory)


def record_book() -> None:
    now = int(time.time() * 1000)
    books.book_record(
        BookSnapshot(
            exchange="binance", symbol="BTCUSDT", asks=((D("100.50"), D("50")), (D("101"), D("50"))),
            bids=((D("99.50"), D("50")), (D("99"), D("50"))), ts_ms=now, update_id=now,
        )
    )  # fmt: skip


@pytest.fixture
def market(db):
    Instrument.objects.create(
        exchange="binance", symbol="BTCUSDT", exchange_symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
        tick_size=D("0.01"), step_size=D("0.001"), min_qty=D("0.001"), max_qty=D("9000"), min_notional=D("5"),
    )  # fmt: skip
    record_book()


@pytest.fixture
def alice_objects(alice, market):
    """Alice's portfolio, a filled order and its fill, a bot with an event, a backtest, an audit event."""
    from apps.bots.models import BotEvent
    from apps.bots.services import bot_create
    from apps.bots.services.backtests import backtest_create
    from apps.portfolio.models import Fill
    from apps.portfolio.services import order_place, portfolio_create
    from apps.safety.models import AuditEvent

    portfolio = portfolio_create(owner=alice, name="alice-main", starting_balances={"USDT": "10000"}, latency_ms=0)
    order = order_place(
        portfolio=portfolio, actor=alice, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.1"
    )
    fill = Fill.objects.filter(order=order).first()
    bot = bot_create(
        owner=alice, portfolio=portfolio, name="alice-bot", symbol="BTCUSDT", strategy="dca",
        params={"interval_candles": 1}, risk={"order_size": "50"},
    )  # fmt: skip
    event = BotEvent.objects.create(bot=bot, kind="state", message="alice's private event")
    backtest = backtest_create(owner=alice, strategy="dca", symbol="BTCUSDT", params={"interval_candles": 1})
    audit = AuditEvent.objects.filter(actor=alice).order_by("id").last()
    assert fill is not None and audit is not None
    return SimpleNamespace(portfolio=portfolio, order=order, fill=fill, bot=bot, event=event, backtest=backtest,
                           audit=audit)  # fmt: skip
