"""Server-rendered pages through the Django test client: every page renders, the banner is on
each, forms validate and write through the services (the browser tests cover the live parts)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.bots.models import Bot
from apps.market.events import BookSnapshot
from apps.market.models import Candle, Instrument
from apps.portfolio import books
from apps.portfolio.models import Order, Portfolio

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_books(paper_state_clean):
    yield


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="trader", password="pw-123456789")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def btc(db):
    return Instrument.objects.create(
        exchange="binance", symbol="BTCUSDT", exchange_symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
        tick_size=D("0.01"), step_size=D("0.001"), min_qty=D("0.001"), max_qty=D("9000"), min_notional=D("5"),
    )  # fmt: skip


@pytest.fixture
def book(btc):
    snapshot = BookSnapshot(
        exchange="binance", symbol="BTCUSDT", asks=((D("100.50"), D("5")),), bids=((D("99.50"), D("5")),),
        ts_ms=1_000, update_id=1,
    )  # fmt: skip
    books.book_record(snapshot)
    return snapshot


@pytest.fixture
def portfolio(user):
    from apps.portfolio.services.portfolios import portfolio_create

    return portfolio_create(owner=user, name="Main", starting_balances={"USDT": "10000"}, latency_ms=0)


@pytest.fixture
def candles(btc):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(60):
        price = D(100 + (i % 7))
        rows.append(
            Candle(
                exchange="binance",
                symbol="BTCUSDT",
                timeframe="1m",
                open_time=start + timedelta(minutes=i),
                open=price,
                high=price + 1,
                low=price - 1,
                close=price + D("0.5"),
                volume=D("3"),
            )  # fmt: skip
        )
    Candle.objects.bulk_create(rows)


def test_anonymous_dashboard_is_public_and_other_pages_need_login(client):
    assert client.get("/").status_code == 200
    for url in ["/portfolios/", "/bots/", "/status/", "/settings/", "/markets/binance/BTCUSDT/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_every_page_renders_with_the_banner(signed_in, portfolio, candles, user):
    from apps.bots.services.bots import bot_create

    bot = bot_create(owner=user, portfolio=portfolio, name="rsi", symbol="BTCUSDT", strategy="rsi_mean_reversion")
    Instrument.objects.create(
        exchange="kucoin", symbol="ETHUSDT", exchange_symbol="ETH-USDT", base_asset="ETH", quote_asset="USDT",
        tick_size=D("0.01"), step_size=D("0.0001"), min_qty=D("0.0001"), max_qty=D("10000"), min_notional=D("0.1"),
    )  # fmt: skip
    urls = [
        "/", "/portfolios/", f"/portfolios/{portfolio.pk}/", "/bots/", "/bots/new/", f"/bots/{bot.pk}/",
        f"/bots/{bot.pk}/edit/", "/status/", "/settings/", "/markets/binance/BTCUSDT/", "/markets/kucoin/ETHUSDT/?tf=1h",
    ]  # fmt: skip
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "PAPER TRADING" in html, url
        assert "<script>" not in html and " style=" not in html, url  # CSP: no inline script or style


def test_pages_load_only_local_assets(signed_in, portfolio):
    import re

    for url in ["/", f"/portfolios/{portfolio.pk}/", "/markets/binance/BTCUSDT/"]:
        html = signed_in.get(url).content.decode()
        for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not asset.startswith(("http://", "https://", "//")), asset
            if asset.startswith("/static/"):
                assert signed_in.get(asset).status_code == 200, asset


def test_unknown_market_is_404(signed_in):
    assert signed_in.get("/markets/nasdaq/BTCUSDT/").status_code == 404


def test_chart_data_has_candles_and_indicators(signed_in, candles):
    data = signed_in.get("/markets/binance/BTCUSDT/chart/?tf=1m").json()
    assert len(data["candles"]) == 60 and data["interval_s"] == 60
    assert len(data["indicators"]) == 60
    last = data["indicators"][-1]
    assert last["rsi"] is not None and last["bb_upper"] is not None and last["macd"] is not None
    assert signed_in.get("/markets/binance/BTCUSDT/chart/?tf=2m").status_code == 400


def test_ticket_validation_reports_errors_without_placing(signed_in, portfolio, book):
    url = "/markets/binance/BTCUSDT/ticket/validate/"
    base = {"portfolio": portfolio.pk, "side": "buy", "order_type": "limit"}
    html = signed_in.post(url, {**base, "quantity": "0.0001", "price": "100"}).content.decode()
    assert "ticket-errors" in html
    html = signed_in.post(url, {**base, "quantity": "0.01"}).content.decode()
    assert "limit price is required" in html
    html = signed_in.post(url, {**base, "quantity": "0.1", "price": "99"}).content.decode()
    assert "Ready to place" in html
    assert not Order.objects.exists()


def test_ticket_places_a_paper_order_from_the_page(signed_in, portfolio, book):
    response = signed_in.post(
        "/markets/binance/BTCUSDT/ticket/",
        {"portfolio": portfolio.pk, "side": "buy", "order_type": "market", "quantity": "0.1"},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "paper-order-placed"
    order = Order.objects.get()
    assert order.source == "page" and order.status == "filled"
    html = signed_in.get(f"/portfolios/{portfolio.pk}/fills/").content.decode()
    assert f"#{order.pk}" in html


def test_ticket_refuses_someone_elses_portfolio(signed_in, book, django_user_model):
    from apps.portfolio.services.portfolios import portfolio_create

    other = django_user_model.objects.create_user(username="other", password="pw-123456789")
    theirs = portfolio_create(owner=other, name="Theirs", starting_balances={"USDT": "100"})
    response = signed_in.post(
        "/markets/binance/BTCUSDT/ticket/",
        {"portfolio": theirs.pk, "side": "buy", "order_type": "market", "quantity": "0.1"},
    )
    assert "ticket-errors" in response.content.decode()
    assert not Order.objects.exists()
    assert signed_in.get(f"/portfolios/{theirs.pk}/").status_code == 404


def test_open_order_cancel_and_csv_export(signed_in, portfolio, book, user):
    from apps.portfolio.services.orders import order_place

    order = order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="limit",
                        quantity="0.1", price="90")  # fmt: skip
    html = signed_in.get(f"/portfolios/{portfolio.pk}/orders/").content.decode()
    assert f'data-order-id="{order.pk}"' in html
    signed_in.post(f"/portfolios/{portfolio.pk}/orders/{order.pk}/cancel/", HTTP_HX_REQUEST="true")
    order.refresh_from_db()
    assert order.status == "canceled"
    csv_text = b"".join(signed_in.get(f"/portfolios/{portfolio.pk}/export/orders.csv").streaming_content).decode()
    assert csv_text.splitlines()[0].startswith("id,client_order_id") and str(order.client_order_id) in csv_text


def test_fill_history_filters_and_paginates(signed_in, portfolio, book, user):
    from apps.portfolio.services.orders import order_place

    for _ in range(3):
        order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side="buy", order_type="market", quantity="0.1")
    html = signed_in.get(f"/portfolios/{portfolio.pk}/fills/?side=sell").content.decode()
    assert "No trades match" in html
    html = signed_in.get(f"/portfolios/{portfolio.pk}/fills/?side=buy&symbol=btcusdt").content.decode()
    assert html.count("data-fill-id=") == 3 and "3 fills" in html


def test_invalid_bot_params_show_inline_errors_and_save_nothing(signed_in, portfolio):
    data = {
        "name": "rsi bot", "portfolio": portfolio.pk, "symbol": "BTCUSDT", "timeframe": "1m",
        "strategy": "rsi_mean_reversion", "params-period": "1", "params-oversold": "30", "params-overbought": "70",
    }  # fmt: skip
    html = signed_in.post("/bots/validate/", data).content.decode()
    assert 'id="err-params-period"' in html and "at least 2" in html
    response = signed_in.post("/bots/new/", data)
    assert response.status_code == 400
    assert "at least 2" in response.content.decode()
    assert not Bot.objects.exists()
    data["params-period"] = "14"
    response = signed_in.post("/bots/new/", data)
    assert response.status_code == 302
    bot = Bot.objects.get()
    assert bot.params["period"] == 14 and bot.status == "stopped"


def test_strategy_switch_renders_its_declared_params(signed_in):
    html = signed_in.get("/bots/params/?strategy=macd_crossover").content.decode()
    assert 'id="strategy-params"' in html and "params-" in html


def test_bot_start_pause_stop_from_the_page(signed_in, portfolio, user):
    from apps.bots.services.bots import bot_create

    bot = bot_create(owner=user, portfolio=portfolio, name="b", symbol="BTCUSDT", strategy="rsi_mean_reversion")
    html = signed_in.post(f"/bots/{bot.pk}/start/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="running"' in html
    signed_in.post(f"/bots/{bot.pk}/pause/")
    bot.refresh_from_db()
    assert bot.status == "paused"
    signed_in.post(f"/bots/{bot.pk}/stop/")
    bot.refresh_from_db()
    assert bot.status == "stopped"


def test_settings_create_and_reset_portfolio_with_confirmation(signed_in, user):
    signed_in.post("/portfolios/new/", {"name": "Swing", "exchange": "kucoin", "starting_quote": "2500"})
    portfolio = Portfolio.objects.get(owner=user, name="Swing")
    assert portfolio.exchange == "kucoin"
    signed_in.post(f"/portfolios/{portfolio.pk}/reset/", {"confirm_name": "wrong"})
    portfolio.refresh_from_db()
    assert portfolio.reset_at is None
    signed_in.post(f"/portfolios/{portfolio.pk}/reset/", {"confirm_name": "Swing"})
    portfolio.refresh_from_db()
    assert portfolio.reset_at is not None


def test_notification_preferences_are_saved(signed_in, user):
    from apps.ops.models import NotificationPreference

    response = signed_in.post("/settings/notifications/", {"email_enabled": "on", "email": "t@example.com",
                                                           "kinds": ["bot_error"]})  # fmt: skip
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=user)
    assert preference.email_enabled and preference.email == "t@example.com" and preference.kinds == ["bot_error"]
    html = signed_in.get("/settings/").content.decode()
    assert 'value="bot_error"' in html and re.search(r'value="kill_switch"(?![^>]*checked)', html)


def test_invalid_notification_preferences_show_inline_errors_and_save_nothing(signed_in, user):
    from apps.ops.models import NotificationPreference

    response = signed_in.post("/settings/notifications/", {"email_enabled": "on", "email": "",
                                                           "webhook_url": "https://127.0.0.1/hook"})  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="err-webhook_url"' in html and "public host" in html and 'id="err-email"' in html
    assert not NotificationPreference.objects.exists()


def test_ticket_places_a_trailing_stop(signed_in, portfolio, book):
    url = "/markets/binance/BTCUSDT/ticket/"
    base = {"portfolio": portfolio.pk, "side": "buy", "order_type": "trailing_stop", "quantity": "0.1"}
    html = signed_in.post("/markets/binance/BTCUSDT/ticket/validate/", base).content.decode()
    assert "trail in basis points" in html
    response = signed_in.post(url, {**base, "trailing_delta_bps": "150"})
    assert response["HX-Trigger"] == "paper-order-placed"
    order = Order.objects.get()
    assert (order.order_type, order.trailing_delta_bps, order.status) == ("trailing_stop", 150, "new")
    page = signed_in.get("/markets/binance/BTCUSDT/").content.decode()
    assert 'value="trailing_stop"' in page and 'data-for="trailing_stop"' in page
