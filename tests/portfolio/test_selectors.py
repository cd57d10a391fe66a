"""Portfolio reads: metrics, CSV export, equity marked to the live mid."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio import books, selectors
from apps.portfolio.services import order_place
from tests.portfolio.conftest import STD_BIDS, make_book

pytestmark = pytest.mark.django_db


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def test_metrics_after_a_round_trip(make_portfolio, std_book, user):
    p = make_portfolio(starting_balances={"USDT": "1000"})
    place(p, user, side="buy", order_type="market", quantity="1")  # 0.5 @ 100.5 + 0.5 @ 101
    # The market moves up; sell into the new bids.
    books.book_record(make_book([("111", "5")], [("110", "5")], ts_ms=5_000))
    place(p, user, side="sell", order_type="market", quantity="0.999")
    metrics = selectors.portfolio_metrics_get(portfolio=p)
    # Bought 1 for 100.75, fee 0.001 BTC: 0.999 held at cost 100.75 (the fee is in the cost).
    # Sold 0.999 @ 110 = 109.89, fee 0.10989 USDT.
    assert metrics["trades"] == 1 and metrics["win_rate"] == 1
    assert metrics["realized_pnl"] == D("109.89") - D("100.75") - D("0.10989")
    # Base fees valued at their fill prices: 0.0005 * 100.5 + 0.0005 * 101, plus the quote fee.
    assert metrics["fees_paid"] == D("0.05025") + D("0.0505") + D("0.10989")
    assert metrics["equity"] == D("1000") - D("100.75") + D("109.89") - D("0.10989")
    assert metrics["average_slippage_bps"] is not None
    assert metrics["max_drawdown"] >= 0


def test_csv_export_rows_and_stream(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="0.6")
    orders = list(selectors.order_export_rows(portfolio=p))
    fills = list(selectors.fill_export_rows(portfolio=p))
    assert orders[0][:6] == [str(order.pk), order.client_order_id, orders[0][2], "BTCUSDT", "buy", "market"]
    assert [row[5:7] for row in fills] == [["100.5", "0.5"], ["101", "0.1"]]
    lines = list(selectors.csv_stream(header=selectors.FILL_EXPORT_HEADER, rows=iter(fills)))
    assert lines[0].startswith("id,order_id,created_at,symbol,side,price")
    assert len(lines) == 3 and lines[1].endswith("\r\n")


def test_equity_marks_to_the_live_mid(make_portfolio, btc, user):
    books.book_record(make_book([("201", "1")], STD_BIDS[:0] or [("199", "1")]))
    p = make_portfolio(starting_balances={"USDT": "0", "BTC": "2"})
    assert selectors.portfolio_equity_get(portfolio=p).equity == D("400")
