"""order_place / order_cancel against live-shaped books, with hand-computed balances."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import DatabaseError

from apps.core.exceptions import ConflictError
from apps.portfolio import arrival, books
from apps.portfolio.errors import MarketDataUnavailableError, OrderRejectedError
from apps.portfolio.ledger_checks import ledger_problems
from apps.portfolio.models import Balance, Fill, Journal, LedgerEntry, Order
from apps.portfolio.services import order_cancel, order_place
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.models import AuditEvent
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book, make_trade

pytestmark = pytest.mark.django_db


def bal(portfolio, asset):
    row = Balance.objects.filter(portfolio=portfolio, asset=asset).first()
    return (row.free, row.locked) if row else (D(0), D(0))


def place(portfolio, user, **kwargs):
    kwargs.setdefault("symbol", "BTCUSDT")
    return order_place(portfolio=portfolio, actor=user, **kwargs)


def test_market_buy_walks_the_book(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quantity="2")
    assert order.status == "filled"
    assert order.avg_price == D("101.125")
    fills = list(order.fills.order_by("id"))
    assert [(f.price, f.quantity, f.fee, f.fee_asset, f.liquidity, f.rule) for f in fills] == [
        (D("100.5"), D("0.5"), D("0.0005"), "BTC", "taker", "book_walk"),
        (D("101"), D("1"), D("0.001"), "BTC", "taker", "book_walk"),
        (D("102"), D("0.5"), D("0.0005"), "BTC", "taker", "book_walk"),
    ]
    assert [f.slippage_bps for f in fills] == [D("50"), D("100"), D("200")]
    assert all(f.arrival_mid == D("100") for f in fills)
    assert bal(p, "USDT") == (D("9797.75"), D(0))  # 10000 - 202.25
    assert bal(p, "BTC") == (D("2.998"), D(0))  # 1 + 2 - 0.002 fee
    assert ledger_problems() == []
    assert AuditEvent.objects.filter(category="order", action="order.place", portfolio_id=p.pk).count() == 1
    assert AuditEvent.objects.filter(category="fill", portfolio_id=p.pk).count() == 3
    assert p.equity_snapshots.filter(reason="fill").count() == 1


def test_market_sell_pays_fee_in_quote(make_portfolio, std_book, user):
    p = make_portfolio()
    place(p, user, side="sell", order_type="market", quantity="1")
    # 0.5 @ 99.5 + 0.5 @ 99 = 99.25 quote, fee 0.1 % = 0.09925
    assert bal(p, "USDT") == (D("10099.15075"), D(0))
    assert bal(p, "BTC") == (D("0"), D(0))


def test_market_buy_by_quote_quantity(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="market", quote_quantity="100")
    assert order.filled_qty == D("0.992") and order.filled_quote == D("99.942")
    assert order.status == "filled"
    assert bal(p, "USDT") == (D("9900.058"), D(0))  # the unspent 0.058 was released


def test_consumed_liquidity_across_orders(make_portfolio, std_book, user):
    p = make_portfolio()
    place(p, user, side="buy", order_type="market", quantity="0.4")
    second = place(p, user, side="buy", order_type="market", quantity="0.4")
    assert [(f.price, f.quantity) for f in second.fills.order_by("id")] == [
        (D("100.5"), D("0.1")),
        (D("101"), D("0.3")),
    ]


def test_bnb_discount_on_binance(make_portfolio, std_book, user):
    p = make_portfolio(fee_discount=True)
    order = place(p, user, side="buy", order_type="market", quantity="2")
    assert order.fees_paid == D("0.0015")  # 2 * 0.1 % * 0.75
    assert bal(p, "BTC") == (D("2.9985"), D(0))


def test_kcs_discount_on_kucoin(make_portfolio, kc_btc, user):
    books.book_record(make_book(STD_ASKS, STD_BIDS, exchange="kucoin"))
    p = make_portfolio(exchange="kucoin", fee_discount=True)
    order = place(p, user, side="sell", order_type="market", quantity="1")
    assert order.fees_paid == D("0.0794")  # 99.25 * 0.1 % * 0.8
    assert bal(p, "USDT") == (D("10099.1706"), D(0))


def test_limit_below_market_rests_and_locks(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="99")
    assert order.status == "new" and order.fills.count() == 0
    assert bal(p, "USDT") == (D("9802"), D("198"))
    assert ledger_problems() == []


def test_marketable_limit_takes_then_rests(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="101")
    # Takes 0.5 @ 100.5 and 1 @ 101 (151.25); 0.5 rests at 101.
    assert order.status == "partially_filled"
    assert order.filled_qty == D("1.5")
    assert {f.liquidity for f in order.fills.all()} == {"taker"}
    assert bal(p, "USDT") == (D("9798"), D("50.75"))  # 202 locked - 151.25 spent
    assert ledger_problems() == []
    order_cancel(order=order, actor=user)
    assert bal(p, "USDT") == (D("9848.75"), D(0))
    assert ledger_problems() == []


def test_ioc_remainder_expires(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="101", time_in_force="IOC")
    assert order.status == "expired" and order.filled_qty == D("1.5")
    assert bal(p, "USDT") == (D("9848.75"), D(0))


def test_fok_all_or_nothing(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="buy", order_type="limit", quantity="2", price="101", time_in_force="FOK")
    assert order.status == "expired" and order.fills.count() == 0
    assert bal(p, "USDT") == (D("10000"), D(0))
    ok = place(p, user, side="buy", order_type="limit", quantity="1.5", price="101", time_in_force="FOK")
    assert ok.status == "filled" and ok.filled_qty == D("1.5")


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"order_type": "limit", "quantity": "1", "price": "99.005"}, "-1013", "Filter failure: PRICE_FILTER"),
        ({"order_type": "limit", "quantity": "0.0005", "price": "99"}, "-1013", "Filter failure: LOT_SIZE"),
        ({"order_type": "limit", "quantity": "1.0005", "price": "99"}, "-1013", "Filter failure: LOT_SIZE"),
        ({"order_type": "limit", "quantity": "0.001", "price": "99"}, "-1013", "Filter failure: NOTIONAL"),
        ({"order_type": "market", "quantity": "0.01"}, "-1013", "Filter failure: NOTIONAL"),
        (
            {"order_type": "limit", "quantity": "200", "price": "99"},
            "-2010",
            "Account has insufficient balance for requested action.",
        ),
        ({"order_type": "market", "quantity": "3"}, "-2010", "Account has insufficient balance for requested action."),
        (
            {"order_type": "limit", "quantity": "1"},
            "-1102",
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            {"order_type": "market", "quantity": "1", "price": "99"},
            "-1106",
            "Parameter 'price' sent when not required.",
        ),
        ({"order_type": "iceberg", "quantity": "1"}, "-1116", "Invalid orderType."),
        (
            {"order_type": "limit", "quantity": "abc", "price": "99"},
            "-1102",
            "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
        ),
        ({"order_type": "market", "quantity": "1", "symbol": "NOPEUSDT"}, "-1121", "Invalid symbol."),
    ],
)
def test_binance_rejections_leave_everything_untouched(make_portfolio, std_book, user, kwargs, code, message):
    p = make_portfolio(starting_balances={"USDT": "10000"})
    side = "sell" if kwargs.get("quantity") == "3" else "buy"
    if side == "sell":
        kwargs = {**kwargs}
    journals = Journal.objects.count()
    with pytest.raises(OrderRejectedError) as caught:
        place(p, user, side=side, **kwargs)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert caught.value.fields
    assert Order.objects.count() == 0 and Journal.objects.count() == journals
    assert bal(p, "USDT") == (D("10000"), D(0))
    refused = AuditEvent.objects.filter(category="order", result="rejected", portfolio_id=p.pk)
    assert refused.count() == 1 and code in refused.get().message


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"order_type": "limit", "quantity": "1", "price": "99.05"}, "400100", "Price increment invalid."),
        ({"order_type": "limit", "quantity": "0.000000001", "price": "99"}, "400100", "Order size increment invalid."),
        (
            {"order_type": "limit", "quantity": "0.000001", "price": "99"},
            "400100",
            "Order size below the minimum requirement.",
        ),
        (
            {"order_type": "limit", "quantity": "0.001", "price": "99"},
            "400100",
            "Order funds below the minimum requirement.",
        ),
        ({"order_type": "limit", "quantity": "500", "price": "99"}, "200004", "Balance insufficient!"),
        ({"order_type": "market", "quantity": "1", "symbol": "NOPEUSDT"}, "900001", "symbol does not exist"),
    ],
)
def test_kucoin_rejections(make_portfolio, kc_btc, user, kwargs, code, message):
    books.book_record(make_book(STD_ASKS, STD_BIDS, exchange="kucoin"))
    p = make_portfolio(exchange="kucoin", starting_balances={"USDT": "100"})
    if kwargs.get("quantity") == "0.001":
        kc_btc.min_notional = D("0.5")
        kc_btc.save()
    with pytest.raises(OrderRejectedError) as caught:
        place(p, user, side="buy", **kwargs)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert bal(p, "USDT") == (D("100"), D(0))


def test_market_order_without_a_book_is_refused(make_portfolio, btc, user):
    p = make_portfolio()
    with pytest.raises(MarketDataUnavailableError):
        place(p, user, side="buy", order_type="market", quantity="1")
    assert Order.objects.count() == 0


def test_safety_guard_runs_first(make_portfolio, std_book, user):
    p = make_portfolio()
    with pytest.raises(RealTradingAttemptError):
        place(p, user, side="buy", order_type="market", quantity="1", extra={"mode": "live"})
    assert Order.objects.count() == 0
    assert bal(p, "USDT") == (D("10000"), D(0))


def test_duplicate_client_order_id_returns_the_original(make_portfolio, std_book, user):
    p = make_portfolio()
    first = place(p, user, side="buy", order_type="market", quantity="1", client_order_id="abc-1")
    again = place(p, user, side="buy", order_type="market", quantity="1.000", client_order_id="abc-1")
    assert again.pk == first.pk
    assert Fill.objects.filter(order=first).count() == 2 and Order.objects.count() == 1
    with pytest.raises(ConflictError) as caught:
        place(p, user, side="buy", order_type="market", quantity="2", client_order_id="abc-1")
    assert caught.value.status == 409
    assert Order.objects.count() == 1
    assert ledger_problems() == []


def test_database_error_mid_order_leaves_nothing_half_written(make_portfolio, std_book, user, monkeypatch):
    import apps.portfolio.services.execution as execution_module

    p = make_portfolio()
    counts = (Order.objects.count(), Fill.objects.count(), Journal.objects.count(), LedgerEntry.objects.count())

    def broken(*args, **kwargs):
        raise DatabaseError("connection lost mid-order")

    monkeypatch.setattr(execution_module, "_equity_from_memory", broken)
    with pytest.raises(DatabaseError):
        place(p, user, side="buy", order_type="market", quantity="1")
    assert (Order.objects.count(), Fill.objects.count(), Journal.objects.count(), LedgerEntry.objects.count()) == counts
    assert bal(p, "USDT") == (D("10000"), D(0)) and bal(p, "BTC") == (D("1"), D(0))
    assert ledger_problems() == []


def test_stop_orders_lock_and_refuse_immediate_trigger(make_portfolio, std_book, user):
    books.trade_record(make_trade("100", "1"))
    p = make_portfolio()
    with pytest.raises(OrderRejectedError) as caught:
        place(p, user, side="sell", order_type="stop_loss", quantity="1", stop_price="101")
    assert caught.value.code == "-2021"
    stop = place(p, user, side="sell", order_type="stop_loss", quantity="1", stop_price="95")
    assert stop.status == "new" and bal(p, "BTC") == (D("0"), D("1"))
    buy_stop = place(p, user, side="buy", order_type="stop_loss", quantity="1", stop_price="105")
    # Reserve: 1 * 105 * (1 + 500 bps) = 110.25
    assert buy_stop.locked_amount == D("110.25") and bal(p, "USDT") == (D("9889.75"), D("110.25"))
    tp = place(p, user, side="buy", order_type="take_profit_limit", quantity="1", stop_price="90", price="90.5")
    assert tp.locked_amount == D("90.5")
    assert ledger_problems() == []


def test_cancel_releases_and_a_second_cancel_is_unknown(make_portfolio, std_book, user):
    p = make_portfolio()
    order = place(p, user, side="sell", order_type="limit", quantity="0.5", price="110")
    assert bal(p, "BTC") == (D("0.5"), D("0.5"))
    canceled = order_cancel(order=order, actor=user)
    assert canceled.status == "canceled" and bal(p, "BTC") == (D("1"), D(0))
    with pytest.raises(OrderRejectedError) as caught:
        order_cancel(order=order, actor=user)
    assert (caught.value.code, caught.value.message) == ("-2011", "Unknown order sent.")
    assert AuditEvent.objects.filter(action="order.cancel", result="ok").count() == 1


def test_latency_is_recorded_and_replayable(make_portfolio, std_book, user):
    p = make_portfolio(latency_ms=250, latency_jitter_ms=40, seed=42)
    order = place(p, user, side="buy", order_type="market", quantity="0.1")
    assert order.seq == 1
    assert order.latency_ms == arrival.latency_sample_ms(seed=42, seq=1, mean_ms=250, jitter_ms=40)
