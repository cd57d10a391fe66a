"""A market order never rests: what the book cannot fill expires, and the order says why in
words a trader can act on (the visible depth ran out, or the slippage cap stopped the walk)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio import fills
from apps.portfolio.services import order_place
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book

pytestmark = pytest.mark.django_db


def test_walk_reports_what_stopped_it():
    book = make_book(STD_ASKS, STD_BIDS)
    assert fills.walk_book(book=book, side="buy", quantity=D("10")).stopped_by == fills.STOP_BOOK_DEPTH
    capped = fills.walk_book(book=book, side="buy", quantity=D("10"), max_slippage_bps=D("60"))
    assert capped.stopped_by == fills.STOP_SLIPPAGE_CAP and capped.quantity == D("0.5")
    limited = fills.walk_book(book=book, side="buy", quantity=D("10"), limit_price=D("101"))
    assert limited.stopped_by == fills.STOP_LIMIT_PRICE
    assert fills.walk_book(book=book, side="buy", quantity=D("1")).stopped_by == ""


def test_market_buy_larger_than_the_book_expires_and_says_why(make_portfolio, std_book, user):
    portfolio = make_portfolio(starting_balances={"USDT": "100000"}, max_slippage_bps="1000")
    order = order_place(
        portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="100"
    )
    assert order.status == "expired" and order.filled_qty == D("3.5")
    assert "3.5 of 100" in order.reason and "3 visible ask levels" in order.reason


def test_market_buy_stopped_by_the_slippage_cap_says_so(make_portfolio, std_book, user):
    portfolio = make_portfolio(starting_balances={"USDT": "100000"}, max_slippage_bps="60")
    order = order_place(
        portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="2"
    )
    assert order.status == "expired" and order.filled_qty == D("0.5")
    assert "slippage cap of 60 bps" in order.reason and "0.5 of 2" in order.reason
    order.refresh_from_db()
    assert "slippage cap" in order.reason  # stored, not only on the returned object
