from __future__ import annotations

import pytest

from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.factory import binance_market_client, kucoin_market_client
from apps.safety.surface import TRADING_METHOD_NAMES, is_trading_name
from tests.safety.conftest import violations_count

pytestmark = pytest.mark.django_db

TRADING_NAMES = [
    "create_order",
    "order_market_buy",
    "order_limit_sell",
    "cancel_order",
    "withdraw",
    "make_universal_transfer",
    "create_margin_loan",
    "futures_create_order",
    "ws_create_order",
    "create_market_order",
    "create_limit_order",
    "cancel_all_orders",
    "inner_transfer",
    "apply_withdrawal",
]


def test_library_trading_surface_is_enumerated():
    for name in ("create_order", "order_market_buy", "cancel_order", "withdraw", "create_market_order"):
        assert name in TRADING_METHOD_NAMES
    assert not is_trading_name("get_recent_trades")
    assert not is_trading_name("get_klines")


@pytest.mark.parametrize("name", TRADING_NAMES)
def test_kucoin_client_refuses_trading_attributes(name, refused_events):
    client = kucoin_market_client(rest_url="http://127.0.0.1:9")
    before = violations_count("factory")
    with pytest.raises(RealTradingAttemptError) as caught:
        getattr(client, name)
    assert caught.value.layer == "factory"
    assert name in caught.value.message
    assert violations_count("factory") == before + 1
    (event,) = refused_events(action="factory_refused")
    assert event.data["attribute"] == name


def test_kucoin_client_hides_the_raw_client():
    client = kucoin_market_client(rest_url="http://127.0.0.1:9", api_key="k", api_secret="s", passphrase="p")
    for private in ("_inner", "_signed", "_KucoinMarketClient__inner"):
        with pytest.raises(AttributeError):
            getattr(client, private)
    with pytest.raises(AttributeError):
        client.no_such_method  # noqa: B018
    with pytest.raises(AttributeError):
        client.anything = 1
    assert "create_market_order" not in dir(client)
    assert set(dir(client)) >= {"symbols", "candles", "stats", "all_tickers", "level1", "api_key_info", "base_fee"}


def test_kucoin_client_without_key_cannot_sign():
    client = kucoin_market_client(rest_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="no KuCoin API key"):
        client.api_key_info()


async def test_binance_client_refuses_trading_attributes_without_network(refused_events):
    # AsyncClient.create pings; an unreachable URL makes that fail, so build through a
    # running simulator in the integration tests. Here: the refusal happens on attribute
    # access, before any I/O, on the class itself.
    from apps.safety.factory import BinanceMarketClient

    assert not hasattr(BinanceMarketClient, "create_order")
    with pytest.raises(OSError):
        await binance_market_client(rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9/")
