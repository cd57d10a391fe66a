"""The bot detail page's performance (the bot's own fills only), trades, and the paper-vs-
backtest reconciliation section (issue 8 / issue 7), through the Django test client."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest

from apps.bots.selectors import bot_fill_list, bot_performance_get
from apps.bots.services import bot_create, bot_evaluate, bot_start
from apps.market.models import Instrument
from apps.portfolio import books
from apps.portfolio.liquidity import liquidity_store
from apps.portfolio.services.instruments import instrument_cache_clear
from apps.portfolio.services.orders import order_place
from tests.bots.conftest import set_book, store_candles

pytestmark = pytest.mark.django_db
SERIES = [100, 99, 98, 99, 100, 101, 99, 97, 96, 98, 100]


@pytest.fixture(autouse=True)
def _clean_process_state():
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()
    yield
    books.books_clear()
    liquidity_store().clear()
    instrument_cache_clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="botpage", password="pw-123456789")


@pytest.fixture
def portfolio(user):
    from apps.portfolio.services import portfolio_create

    Instrument.objects.create(
        exchange="binance", symbol="BTCUSDT", exchange_symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
        tick_size=D("0.01"), step_size=D("0.00001"), min_qty=D("0.00001"), max_qty=D("9000"), min_notional=D("5"),
    )  # fmt: skip
    return portfolio_create(
        owner=user, name="bots", starting_balances={"USDT": "10000"}, latency_ms=0, latency_jitter_ms=0
    )


@pytest.fixture
def bot(user, portfolio):
    return bot_create(
        owner=user, portfolio=portfolio, name="rec", symbol="BTCUSDT", strategy="rsi_mean_reversion",
        params={"period": 2}, risk={"order_size": "100"},
    )  # fmt: skip


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _trade(portfolio, user, side, quantity, *, client_order_id=None):
    return order_place(portfolio=portfolio, actor=user, symbol="BTCUSDT", side=side, order_type="market",
                       quantity=quantity, client_order_id=client_order_id)  # fmt: skip


def test_performance_counts_only_the_bots_own_fills(signed_in, user, portfolio, bot):
    set_book(100, ts_ms=1_000)
    _trade(portfolio, user, "buy", "2", client_order_id=f"bot{bot.pk}-1")
    _trade(portfolio, user, "buy", "5")  # a manual trade on the same symbol: not the bot's
    set_book(110, ts_ms=2_000)
    _trade(portfolio, user, "sell", "1", client_order_id=f"bot{bot.pk}-2")

    fills = list(bot_fill_list(bot=bot))
    assert [f.side for f in fills] == ["buy", "sell"]
    buy, sell = fills
    perf = bot_performance_get(bot=bot)
    # Average cost (fees in base on the buy, in quote on the sell): the portfolio app's maths.
    held = buy.quantity - (buy.fee if buy.fee_asset == "BTC" else 0)
    avg_cost = buy.quantity * buy.price / held
    sell_fee = sell.fee * sell.price if sell.fee_asset == "BTC" else sell.fee
    realized = (sell.price - avg_cost) * sell.quantity - sell_fee
    assert perf.realized_pnl == realized and perf.realized_pnl > 0
    assert perf.quantity == held - sell.quantity
    assert perf.unrealized_pnl == (D("110") - avg_cost) * perf.quantity
    assert perf.closed_trades == 1 and perf.win_rate_pct == D("100")
    assert perf.return_pct == (perf.realized_pnl + perf.unrealized_pnl) / D("10000") * 100
    assert perf.fees_paid > 0 and perf.fills == 2
    assert isinstance(perf.total_pnl, D)

    html = signed_in.get(f"/bots/{bot.pk}/").content.decode()
    assert sorted(re.findall(r'data-fill-id="(\d+)"', html)) == sorted(str(f.pk) for f in fills)
    assert f'data-kpi="realized_pnl">{perf.realized_pnl:+,.2f}<' in html
    assert 'data-kpi="win_rate_pct">100.00%<' in html

    # The HTMX refresh: performance card plus the trades table out of band.
    fragment = signed_in.get(f"/bots/{bot.pk}/performance/", HTTP_HX_REQUEST="true").content.decode()
    assert (
        'id="bot-performance"' in fragment
        and 'id="bot-trades" aria-labelledby="bt-trades-h" hx-swap-oob="true"' in fragment
    )


def test_empty_bot_shows_empty_states(signed_in, bot):
    html = signed_in.get(f"/bots/{bot.pk}/").content.decode()
    assert "No trades yet" in html and 'data-kpi="win_rate_pct">—<' in html
    response = signed_in.post(f"/bots/{bot.pk}/reconcile/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-reconcile="none"' in response.content.decode()


def test_reconcile_button_lists_the_differences_and_why(signed_in, user, bot):
    times = store_candles(SERIES)
    bot = bot_start(bot=bot, actor=user)
    skipped = times[4]  # the live bot "was down" on this candle
    for i, (t, close) in enumerate(zip(times, SERIES, strict=True)):
        set_book(close, ts_ms=1_000 + i)
        if i >= 2 and t != skipped:
            bot_evaluate(bot=bot, candle_open_time_ms=t)
    page = signed_in.get(f"/bots/{bot.pk}/").content.decode()
    assert f'hx-post="/bots/{bot.pk}/reconcile/"' in page and 'id="reconcile-run"' in page

    html = signed_in.post(f"/bots/{bot.pk}/reconcile/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="reconcile-result"' in html and 'id="reconcile-differences"' in html
    assert 'data-kind="backtest_only"' in html and "did not evaluate" in html
    assert 'data-kind="fill_differs"' in html and "fill price" in html


def test_someone_elses_bot_is_404(client, django_user_model, bot):
    client.force_login(django_user_model.objects.create_user(username="nosy", password="pw-123456789"))
    assert client.get(f"/bots/{bot.pk}/performance/").status_code == 404
    assert client.post(f"/bots/{bot.pk}/reconcile/").status_code == 404
