"""The market page: a symbol that is not listed is a 404 saying so; the ticket shows the
instrument's rules and carries each portfolio's free balances; numbers follow the tick."""

from __future__ import annotations

import html as html_lib
import json
from decimal import Decimal

import pytest

from apps.market.events import BookSnapshot
from apps.portfolio.services.portfolios import portfolio_create
from tests.factories import instrument_make

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
    return instrument_make(step_size=D("0.00001"), tick_size=D("0.01"))


def test_unlisted_symbol_is_a_404_saying_so(signed_in, btc):
    response = signed_in.get("/markets/binance/FOOUSDT/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "FOOUSDT is not listed on Binance" in html
    assert "Buy FOOUSDT" not in html and 'id="chart"' not in html


def test_unlisted_symbol_has_no_chart_data(signed_in, btc):
    response = signed_in.get("/markets/binance/FOOUSDT/chart/?tf=1m")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "FOOUSDT is not listed on Binance."


def test_listed_symbol_in_any_case_renders(signed_in, btc):
    assert signed_in.get("/markets/binance/btcusdt/").status_code == 200


def test_ticket_carries_balances_and_the_instruments_rules(signed_in, user, btc):
    portfolio = portfolio_create(owner=user, name="Main", starting_balances={"USDT": "10000", "BTC": "0.5"})
    html = signed_in.get("/markets/binance/BTCUSDT/").content.decode()
    balances = json.loads(html_lib.unescape(html.split('data-balances="', 1)[1].split('"', 1)[0]))
    assert balances == {str(portfolio.pk): {"BTC": "0.5", "USDT": "10000"}}
    assert 'data-step="0.00001"' in html and 'data-tick="0.01"' in html
    for pct in ("25", "50", "75", "100"):
        assert f'data-pct="{pct}"' in html
    assert 'name="amount_unit" value="quote"' in html


def test_book_prices_follow_the_tick_and_sizes_the_step(signed_in, user, btc):
    from apps.market.cache import cache_invalidate, cache_key, cache_write_many

    portfolio_create(owner=user, name="Main")
    book = BookSnapshot(exchange="binance", symbol="BTCUSDT", asks=((D("8475.5196022675"), D("0.1895755")),),
                        bids=((D("8475.01"), D("2")),), ts_ms=1, update_id=1)  # fmt: skip
    cache_write_many({cache_key("binance", "BTCUSDT", "book"): book})
    try:
        html = signed_in.get("/markets/binance/BTCUSDT/").content.decode()
    finally:
        cache_invalidate("binance", ["BTCUSDT"])
    assert ">8475.5196022675<" not in html and ">0.1895755<" not in html  # raw digits only in data-*
    assert '<td class="down">8,475.52</td><td class="num">0.18958</td>' in html
    assert '<td class="up">8,475.01</td><td class="num">2.00000</td>' in html
