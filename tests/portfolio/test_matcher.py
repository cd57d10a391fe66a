"""Resting orders matched on trade/book events through the matcher and the service."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio import books
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.matcher import Matcher
from apps.portfolio.models import Balance
from apps.portfolio.services import order_cancel, order_place
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book, make_trade

pytestmark = pytest.mark.django_db


def bal(portfolio, asset):
    row = Balance.objects.get(portfolio=portfolio, asset=asset)
    return row.free, row.locked


@pytest.fixture
def matcher():
    m = Matcher(threaded=False)
    m.load()
    return m


def feed(matcher, *events):
    for event in events:
        matcher.on_event(event)
    return matcher.process_pending()


def place(portfolio, user, **kwargs):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", **kwargs)


def test_resting_limit_partial_fills_from_prints(make_portfolio, std_book, user, matcher):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="99")
    matcher.load()
    # A print at our price is only a touch; a better book is not a print.
    assert feed(matcher, make_trade("99", "5"), make_book([("98.5", "3")], [("98", "1")], ts_ms=1500)) == 0
    assert feed(matcher, make_trade("98.9", "0.7", trade_id="t2")) == 1
    order.refresh_from_db()
    assert order.status == "partially_filled" and order.filled_qty == D("0.7")
    fill = order.fills.get()
    assert (fill.price, fill.quantity, fill.liquidity, fill.rule, fill.trade_id) == (
        D("99"),
        D("0.7"),
        "maker",
        "trade_through",
        "t2",
    )
    assert fill.fee == D("0.0007")
    assert bal(p, "USDT") == (D("9802"), D("128.7"))  # 198 locked - 69.3 spent
    feed(matcher, make_trade("98.5", "5", trade_id="t3"))
    order.refresh_from_db()
    assert order.status == "filled" and order.filled_qty == D("2")
    assert bal(p, "USDT") == (D("9802"), D(0))
    assert bal(p, "BTC") == (D("2.998"), D(0))  # 1 + 2 - 0.002 maker fee
    assert ledger_problems() == []
    # Filled orders leave the index: further prints do nothing.
    assert feed(matcher, make_trade("90", "5", trade_id="t4")) == 0


def test_maker_fee_tier_differs_from_taker(make_portfolio, std_book, user, matcher):
    p = make_portfolio(maker_fee_rate="0.0002", taker_fee_rate="0.0004")
    order = place(p, user, side="sell", order_type="limit", quantity="1", price="101")
    taker = place(p, user, side="buy", order_type="market", quantity="1")
    assert {f.fee for f in taker.fills.all()} == {D("0.0002")}  # 0.5 * 0.04 % each level
    matcher.load()
    feed(matcher, make_trade("101.5", "3", taker="buy"))
    fill = order.fills.get()
    assert (fill.liquidity, fill.fee, fill.fee_asset) == ("maker", D("0.0202"), "USDT")  # 101 * 0.02 %


def test_open_orders_survive_a_restart(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="sell", order_type="limit", quantity="0.5", price="105")
    restarted = Matcher(threaded=False)
    assert restarted.load() == 1
    feed(restarted, make_trade("105.5", "1", taker="buy"))
    order.refresh_from_db()
    assert order.status == "filled"


def test_stop_loss_gap_fills_at_the_worse_price(make_portfolio, std_book, user, matcher):
    books.trade_record(make_trade("100", "1", trade_id="t0"))
    p = make_portfolio()
    stop = place(p, user, side="sell", order_type="stop_loss", quantity="1", stop_price="99.8")
    matcher.load()
    assert feed(matcher, make_trade("99.9", "1")) == 0  # above the stop: no trigger
    # Gap: the next print is 97 while the book still shows bids at 99.5 / 99.
    feed(matcher, make_trade("97", "0.2", trade_id="gap"))
    stop.refresh_from_db()
    assert stop.triggered and stop.status == "filled"
    assert {(f.price, f.rule, f.liquidity) for f in stop.fills.all()} == {(D("97"), "stop_gap", "taker")}
    assert stop.avg_price == D("97")
    assert bal(p, "USDT") == (D("10096.903"), D(0))  # 97 - 0.097 fee
    assert ledger_problems() == []


def test_stop_loss_without_gap_walks_the_book(make_portfolio, std_book, user, matcher):
    books.trade_record(make_trade("100", "1", trade_id="t0"))
    p = make_portfolio()
    stop = place(p, user, side="sell", order_type="stop_loss", quantity="1", stop_price="99.8")
    matcher.load()
    feed(matcher, make_trade("99.8", "0.1", trade_id="t1"))
    stop.refresh_from_db()
    # The print at the stop is better than the bids, so the book decides: 0.5 @ 99.5, 0.5 @ 99.
    assert [(f.price, f.quantity) for f in stop.fills.order_by("id")] == [(D("99.5"), D("0.5")), (D("99"), D("0.5"))]


def test_stop_limit_triggers_then_rests_then_fills_on_prints(make_portfolio, std_book, user, matcher):
    books.trade_record(make_trade("100", "1", trade_id="t0"))
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="stop_loss_limit", quantity="1", stop_price="100.2", price="100.3")
    matcher.load()
    feed(matcher, make_trade("100.25", "0.3", trade_id="t1", taker="buy"))
    order.refresh_from_db()
    assert order.triggered and order.status == "new"  # asks start at 100.50: not marketable
    feed(matcher, make_trade("100.1", "0.4", trade_id="t2"))
    order.refresh_from_db()
    assert order.filled_qty == D("0.4") and order.fills.get().liquidity == "maker"
    assert ledger_problems() == []


def test_take_profit_buy_stop_market_uses_reserve(make_portfolio, std_book, user, matcher):
    books.trade_record(make_trade("100", "1", trade_id="t0"))
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="take_profit", quantity="1", stop_price="99.6")
    assert order.locked_amount == D("104.58")  # 99.6 * 1.05
    matcher.load()
    assert feed(matcher, make_trade("99.7", "1", trade_id="t1")) == 0
    feed(matcher, make_trade("99.6", "1", trade_id="t2"))
    order.refresh_from_db()
    # Walks asks: 0.5 @ 100.5 (no gap: the print is better) + 0.5 @ 101
    assert order.status == "filled" and order.filled_quote == D("100.75")
    assert order.locked_amount == 0
    assert bal(p, "USDT") == (D("9899.25"), D(0))
    assert ledger_problems() == []


def test_canceled_order_is_not_filled_by_a_stale_index(make_portfolio, std_book, user, matcher):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="1", price="99")
    matcher.load()
    order_cancel(order=order, actor=user)
    assert feed(matcher, make_trade("98", "5")) == 0
    order.refresh_from_db()
    assert order.status == "canceled" and order.fills.count() == 0
    assert ledger_problems() == []


def test_market_events_feed_the_book_history(make_portfolio, btc, user, matcher):
    feed(matcher, make_book(STD_ASKS, STD_BIDS, ts_ms=5_000))
    assert books.book_for(exchange="binance", symbol="BTCUSDT").mid == D("100")
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="0.1")
    assert order.status == "filled"
