"""Portfolio pages: the ticket's live check and submit, the create form (its own page and
the Settings form, errors next to fields), trade-history filters in the URL and the CSV export."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.portfolio.models import Order, Portfolio
from apps.portfolio.services.orders import order_place

D = Decimal
pytestmark = pytest.mark.django_db
VALIDATE = "/markets/binance/BTCUSDT/ticket/validate/"
SUBMIT = "/markets/binance/BTCUSDT/ticket/"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _ticket(portfolio, **fields):
    return {"portfolio": portfolio.pk, "side": "buy", "order_type": "market", "amount_unit": "base", **fields}


def _slot(html, field):
    match = re.search(rf'<p class="field-error" id="id_{field}_error"[^>]*>(.*?)</p>', html, re.S)
    assert match, html
    return match.group(1).strip()


def test_live_check_refuses_what_the_balance_cannot_pay(signed_in, make_portfolio, std_book):
    portfolio = make_portfolio(starting_balances={"USDT": "100"})
    html = signed_in.post(VALIDATE, _ticket(portfolio, order_type="limit", quantity="5", price="100")).content.decode()
    assert "Order is valid" not in html and "Ready to place" not in html
    assert _slot(html, "quantity") == (
        "Not enough USDT: this order needs 500.00 USDT, 100.00 USDT is available (Binance -2010)"
    )
    assert 'data-invalid-fields="quantity ' in html
    assert not Order.objects.exists()


def test_live_check_refuses_a_sell_with_nothing_held(signed_in, make_portfolio, std_book):
    portfolio = make_portfolio(starting_balances={"USDT": "10000"})
    html = signed_in.post(VALIDATE, _ticket(portfolio, side="sell", quantity="0.1")).content.decode()
    assert _slot(html, "quantity").startswith("Not enough BTC")


def test_live_check_states_the_step_rule_next_to_the_quantity(signed_in, make_portfolio, std_book):
    html = signed_in.post(VALIDATE, _ticket(make_portfolio(), quantity="0.0015")).content.decode()
    assert _slot(html, "quantity") == "Quantity must be a multiple of 0.001 (Binance LOT_SIZE)"
    assert _slot(html, "price") == ""  # the other slots are cleared


def test_live_check_previews_cost_fee_and_average_price(signed_in, make_portfolio, std_book):
    html = signed_in.post(VALIDATE, _ticket(make_portfolio(), quantity="1")).content.decode()
    assert "Ready to place" in html
    assert re.search(r'data-preview="avg">100\.75 ', html)
    assert re.search(r'data-preview="cost">100\.75 ', html)
    assert re.search(r'data-preview="fee">0\.10 ', html)
    assert "0.10% taker" in html
    assert not Order.objects.exists()


def test_quote_amount_buys_by_quote_on_a_market_order(signed_in, make_portfolio, std_book):
    portfolio = make_portfolio()
    response = signed_in.post(SUBMIT, _ticket(portfolio, amount_unit="quote", quantity="50.25"))
    assert response["HX-Trigger"] == "paper-order-placed"
    order = Order.objects.get()
    assert order.quote_quantity == D("50.25") and order.filled_qty == D("0.5")
    assert "data-ticket-balances=" in response.content.decode()


def test_quote_amount_on_a_limit_order_converts_at_its_price_down_to_the_step(signed_in, make_portfolio, std_book):
    portfolio = make_portfolio()
    signed_in.post(SUBMIT, _ticket(portfolio, order_type="limit", amount_unit="quote", quantity="100", price="95"))
    order = Order.objects.get()
    assert order.quantity == D("1.052") and order.price == D("95")


def test_new_portfolio_form_renders_on_get(signed_in):
    response = signed_in.get("/portfolios/new/")
    assert response.status_code == 200
    assert 'id="portfolio-create"' in response.content.decode()


def test_duplicate_portfolio_name_is_a_form_error_next_to_the_field(signed_in, make_portfolio):
    make_portfolio(name="Main")
    response = signed_in.post("/portfolios/new/", {"name": "Main", "exchange": "binance", "starting_quote": "1000"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_name_error"[^>]*>You already have a portfolio with this name', html)
    assert 'aria-invalid="true"' in html
    assert Portfolio.objects.filter(name="Main").count() == 1


def test_form_errors_show_labels_next_to_fields_not_raw_names(signed_in):
    response = signed_in.post("/portfolios/new/", {"name": "", "exchange": "binance", "starting_quote": "0"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "starting_quote:" not in html and "name:" not in html
    assert re.search(r'<label for="id_starting_quote">Starting USDT</label>', html)
    assert 'id="id_starting_quote_error"' in html and 'id="id_name_error"' in html


def test_create_redirects_to_settings_with_a_message(signed_in):
    response = signed_in.post(
        "/portfolios/new/", {"name": "Second", "exchange": "binance", "starting_quote": "500"}, follow=True
    )
    assert response.redirect_chain[-1][0].endswith("/settings/")
    assert "Portfolio “Second” created." in response.content.decode()


def _three_trades(portfolio, user):
    for side in ("buy", "buy", "sell"):
        order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side=side, order_type="market", quantity="0.1")


def test_symbol_filter_ignores_case_and_matches_a_part(signed_in, make_portfolio, std_book, user):
    portfolio = make_portfolio()
    _three_trades(portfolio, user)
    for symbol in ("btcusdt", "btc", "BtC"):
        html = signed_in.get(f"/portfolios/{portfolio.pk}/fills/?symbol={symbol}").content.decode()
        assert html.count("data-fill-id=") == 3, symbol


def test_filters_go_into_the_page_url(signed_in, make_portfolio, std_book, user):
    portfolio = make_portfolio()
    response = signed_in.get(f"/portfolios/{portfolio.pk}/fills/?side=buy&page=1", HTTP_HX_REQUEST="true")
    assert response["HX-Replace-Url"] == f"/portfolios/{portfolio.pk}/?side=buy"
    page = signed_in.get(f"/portfolios/{portfolio.pk}/?side=buy").content.decode()
    assert '<option value="buy" selected>' in page


def test_csv_export_follows_the_filters(signed_in, make_portfolio, std_book, user):
    portfolio = make_portfolio()
    _three_trades(portfolio, user)
    html = signed_in.get(f"/portfolios/{portfolio.pk}/?side=sell").content.decode()
    assert f'href="/portfolios/{portfolio.pk}/export/fills.csv?side=sell"' in html

    def rows(kind, query):
        response = signed_in.get(f"/portfolios/{portfolio.pk}/export/{kind}.csv?{query}")
        return b"".join(response.streaming_content).decode().splitlines()[1:]

    assert len(rows("fills", "")) == 3
    sells = rows("fills", "side=sell")
    assert len(sells) == 1 and ",sell," in sells[0]
    assert len(rows("orders", "side=buy")) == 2
    assert rows("fills", "symbol=ETH") == []


def test_history_and_orders_show_prices_to_the_tick_and_quantities_to_the_step(
    signed_in, make_portfolio, std_book, user
):
    portfolio = make_portfolio()
    order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.1")
    order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="limit", quantity="0.2",
                price="90")  # fmt: skip
    fills = signed_in.get(f"/portfolios/{portfolio.pk}/fills/").content.decode()
    assert '<td class="num">100.50</td>' in fills and '<td class="num">0.100</td>' in fills
    assert "0.0001 BTC" not in fills and "0.00010000 BTC" in fills  # the fee: BTC's 8 decimals
    orders = signed_in.get(f"/portfolios/{portfolio.pk}/orders/").content.decode()
    assert '<td class="num">0.200</td><td class="num">90.00</td>' in orders
    page = signed_in.get(f"/portfolios/{portfolio.pk}/").content.decode()
    # The position row: quantity to the step, average cost (fees in) and mark to the tick.
    assert '<td>BTCUSDT</td><td class="num">0.100</td><td class="num">100.60</td><td class="num">100.00</td>' in page
