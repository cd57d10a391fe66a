"""The ticket's live check (services/order_check.py): the service's own rules plus balance,
position and stop direction, with a cost/fee/average-price preview, and nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.portfolio import books
from apps.portfolio.errors import InsufficientBalanceError, MarketDataUnavailableError, OrderRejectedError
from apps.portfolio.models import Balance, Journal, Order
from apps.portfolio.order_request import order_request_build
from apps.portfolio.services.instruments import instrument_rules_get
from apps.portfolio.services.order_check import order_check
from apps.safety.models import AuditEvent
from tests.portfolio.conftest import make_trade

D = Decimal
pytestmark = pytest.mark.django_db


def check(portfolio, **kwargs):
    fields = {"symbol": "BTCUSDT", "side": "buy", "order_type": "market", "quantity": None, "quote_quantity": None,
              "price": None, "stop_price": None, "time_in_force": "GTC", **kwargs}  # fmt: skip
    request = order_request_build(exchange=portfolio.exchange, **fields)
    instrument = instrument_rules_get(exchange=portfolio.exchange, symbol=request.symbol)
    return order_check(portfolio=portfolio, request=request, instrument=instrument)


def _nothing_written(portfolio, journals):
    assert not Order.objects.exists() and Journal.objects.count() == journals
    assert not AuditEvent.objects.filter(category="order").exists()
    assert Balance.objects.get(portfolio=portfolio, asset="USDT").locked == 0


def test_five_btc_against_ten_thousand_usdt_is_refused_in_words(make_portfolio, std_book):
    portfolio = make_portfolio(starting_balances={"USDT": "100"})
    journals = Journal.objects.count()
    with pytest.raises(InsufficientBalanceError) as caught:
        check(portfolio, order_type="limit", quantity="5", price="100")
    assert caught.value.fields == {
        "quantity": ["Not enough USDT: this order needs 500.00 USDT, 100.00 USDT is available (Binance -2010)"]
    }
    _nothing_written(portfolio, journals)


def test_a_sell_without_the_base_asset_is_refused(make_portfolio, std_book):
    portfolio = make_portfolio(starting_balances={"USDT": "10000"})
    with pytest.raises(InsufficientBalanceError) as caught:
        check(portfolio, side="sell", quantity="0.1")
    assert caught.value.fields["quantity"] == [
        "Not enough BTC: this order needs 0.10000000 BTC, 0.00000000 BTC is available (Binance -2010)"
    ]


def test_a_stop_that_would_trigger_at_once_is_refused(make_portfolio, std_book):
    books.trade_record(make_trade("100", "0.1"))
    portfolio = make_portfolio()
    with pytest.raises(OrderRejectedError) as caught:
        check(portfolio, order_type="stop_loss", side="buy", quantity="0.1", stop_price="99")
    assert caught.value.code == "-2021"
    assert "must be above the last price 100.00" in caught.value.fields["stop_price"][0]
    assert check(portfolio, order_type="stop_loss", side="buy", quantity="0.1", stop_price="105").needed > 0


def test_filters_are_the_services_filters(make_portfolio, std_book):
    with pytest.raises(OrderRejectedError) as caught:
        check(make_portfolio(), quantity="0.0015")
    assert caught.value.fields == {"quantity": ["Quantity must be a multiple of 0.001 (Binance LOT_SIZE)"]}


def test_market_buy_preview_walks_the_live_book(make_portfolio, std_book):
    portfolio = make_portfolio()
    journals = Journal.objects.count()
    preview = check(portfolio, quantity="1")
    # 0.5 at 100.50 and 0.5 at 101.00: cost 100.75, average 100.75, taker fee 0.1 %.
    assert (preview.quantity, preview.cost, preview.avg_price) == (D("1"), D("100.75"), D("100.75"))
    assert preview.fee == D("0.10075") and preview.liquidity == "taker"
    assert preview.spend_asset == "USDT" and preview.available == D("10000") and preview.needed == D("100.75")
    assert preview.slippage_bps > 0
    _nothing_written(portfolio, journals)


def test_market_buy_by_quote_amount(make_portfolio, std_book):
    preview = check(make_portfolio(), quote_quantity="50.25")
    assert preview.quantity == D("0.5") and preview.cost == D("50.25") and preview.needed == D("50.25")


def test_resting_limit_is_a_maker_at_its_price(make_portfolio, std_book):
    preview = check(make_portfolio(), order_type="limit", quantity="2", price="95")
    assert (preview.avg_price, preview.cost, preview.liquidity, preview.needed) == (
        D("95"), D("190"), "maker", D("190")
    )  # fmt: skip


def test_market_order_without_a_book_says_so(make_portfolio, btc):
    with pytest.raises(MarketDataUnavailableError):
        check(make_portfolio(), quantity="0.1")


def test_preview_sees_what_our_orders_took_and_takes_nothing(make_portfolio, std_book, user):
    from apps.portfolio.services.orders import order_place

    portfolio = make_portfolio()
    order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.5")
    # 100.50 is taken until the level refreshes: 1 BTC now comes from 101.00.
    first = check(portfolio, quantity="1")
    assert (first.avg_price, first.cost) == (D("101"), D("101"))
    assert check(portfolio, quantity="1") == first  # a peek: the check consumed nothing
