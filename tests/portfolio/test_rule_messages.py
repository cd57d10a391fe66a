"""Rejections state the rule in words with the exchange's code beside it, next to the field
(``fields``); ``message`` stays the exchange's own. One builder (apps/portfolio/rules.py) for
the API, the ticket's form errors and its live check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.portfolio import books
from apps.portfolio.errors import OrderRejectedError
from apps.portfolio.services.orders import order_place
from tests.portfolio.conftest import STD_ASKS, STD_BIDS, make_book, make_trade

D = Decimal
pytestmark = pytest.mark.django_db


def _refused(portfolio, user, **kwargs):
    kwargs.setdefault("side", "buy")
    with pytest.raises(OrderRejectedError) as caught:
        order_place(portfolio=portfolio, actor=user, symbol=kwargs.pop("symbol", "BTCUSDT"), **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"order_type": "limit", "quantity": "1", "price": "99.005"}, "price",
         "Limit price must be a multiple of 0.01 (Binance PRICE_FILTER)"),
        ({"order_type": "limit", "quantity": "1.0005", "price": "99"}, "quantity",
         "Quantity must be a multiple of 0.001 (Binance LOT_SIZE)"),
        ({"order_type": "limit", "quantity": "0.0005", "price": "99"}, "quantity",
         "Quantity must be a multiple of 0.001 (Binance LOT_SIZE)"),
        ({"order_type": "limit", "quantity": "0.001", "price": "99"}, "quantity",
         "Order value must be at least 5 (this one is 0.10) (Binance NOTIONAL)"),
        ({"order_type": "limit", "quantity": "200", "price": "99"}, "quantity",
         "Not enough USDT: this order needs 19,800.00 USDT, 10,000.00 USDT is available (Binance -2010)"),
        ({"order_type": "limit", "quantity": "2", "price": "99", "side": "sell"}, "quantity",
         "Not enough BTC: this order needs 2.00000000 BTC, 1.00000000 BTC is available (Binance -2010)"),
        ({"order_type": "limit", "quantity": "1"}, "price",
         "This order type needs a limit price above 0 (Binance -1102)"),
        ({"order_type": "market", "quantity": "1", "symbol": "NOPEUSDT"}, "symbol",
         "This symbol is not listed on Binance (Binance -1121)"),
    ],
)  # fmt: skip
def test_binance_rejections_state_the_rule(make_portfolio, std_book, user, kwargs, field, text):
    error = _refused(make_portfolio(), user, **kwargs)
    assert error.fields == {field: [text]}


def test_min_quantity_and_exchange_message_kept(make_portfolio, btc, std_book, user):
    btc.step_size, btc.min_qty = D("0.0001"), D("0.001")
    btc.save()
    from apps.portfolio.services.instruments import instrument_cache_clear

    instrument_cache_clear()
    error = _refused(make_portfolio(), user, order_type="limit", quantity="0.0005", price="99")
    assert error.message == "Filter failure: LOT_SIZE" and error.code == "-1013"
    assert error.fields == {"quantity": ["Quantity must be at least 0.001 (Binance LOT_SIZE)"]}


def test_stop_that_would_trigger_at_once_says_which_side_of_the_last_price(make_portfolio, std_book, user):
    books.trade_record(make_trade("100", "0.1"))
    error = _refused(make_portfolio(), user, order_type="stop_loss", side="sell", quantity="0.1", stop_price="101")
    assert error.code == "-2021" and error.message == "Order would immediately trigger."
    assert error.fields == {
        "stop_price": [
            "A sell stop would trigger at once: its stop price must be below the last price 100.00 (Binance -2021)"
        ]
    }


def test_kucoin_rejections_name_kucoins_code(make_portfolio, kc_btc, user):
    books.book_record(make_book(STD_ASKS, STD_BIDS, exchange="kucoin"))
    error = _refused(make_portfolio(exchange="kucoin"), user, order_type="limit", quantity="1", price="99.05")
    assert error.message == "Price increment invalid." and error.code == "400100"
    assert error.fields == {"price": ["Limit price must be a multiple of 0.1 (KuCoin 400100)"]}


def test_trailing_delta_out_of_range_states_the_range(make_portfolio, std_book, user):
    from apps.portfolio import rules

    error = _refused(make_portfolio(), user, order_type="trailing_stop", side="sell", quantity="0.1",
                     trailing_delta_bps=5)  # fmt: skip
    assert error.message == "Filter failure: TRAILING_DELTA"
    low, high = rules.TRAILING_DELTA_MIN_BPS, rules.TRAILING_DELTA_MAX_BPS
    assert error.fields == {
        "trailing_delta_bps": [f"The trail must be {low} to {high} basis points (Binance TRAILING_DELTA)"]
    }
