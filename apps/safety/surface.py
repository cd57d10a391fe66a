"""The trading surface of the client libraries, enumerated from their source at import.

Asking a market client for any of these names is a real-trading attempt (the factory
refuses it); any other unknown name is a plain AttributeError.
"""

from __future__ import annotations

import re
import warnings

# Method names that *sound* like trading but only read public market data or fees.
MARKET_DATA_NAMES = frozenset(
    {
        "get_recent_trades",
        "get_historical_trades",
        "get_aggregate_trades",
        "aggregate_trade_iter",
        "get_trade_histories",
        "get_orderbook_ticker",
        "get_orderbook_tickers",
        "get_order_book",
        "get_part_order",
        "get_aggregated_order",
        "get_aggregated_orderv3",
        "get_atomic_order",
        "get_atomic_orderv3",
        "get_trade_fee",
        "get_actual_fee",
        "get_base_fee",
        "v3_get_ticker_trading_day",
    }
)

TRADING_NAME_RE = re.compile(
    r"(order|cancel|withdraw|transfer|trade|borrow|repay|loan|purchase|redeem|redemption|subscri|stak|"
    r"convert|margin|futures|options|papi|lend|dust|leverage|position|swap|listen_key|user_data_stream|"
    r"stream_|^ws_|create|place|buy|sell|modify|apply|enable|disable|liabilit|savings|earn|flexible|"
    r"locked|bnb_burn|sub_account|universal|mining|gift|pay|portfolio|deposit|funding|hf_|"
    r"oco|_sor|allocation|prevented|commission|account)",
    re.IGNORECASE,
)


def _library_method_names() -> set[str]:
    from binance.async_client import AsyncClient
    from binance.client import Client

    with warnings.catch_warnings():
        # kucoin-python imports pkg_resources, which warns on current setuptools.
        warnings.simplefilter("ignore")
        from kucoin import client as kucoin_client

    classes = (
        AsyncClient,
        Client,
        kucoin_client.Trade,
        kucoin_client.User,
        kucoin_client.Margin,
        kucoin_client.Lending,
        kucoin_client.Earn,
        kucoin_client.Market,
    )
    names: set[str] = set()
    for cls in classes:
        names |= {name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name, None))}
    return names


def _trading_names() -> frozenset[str]:
    names = _library_method_names()
    return frozenset(name for name in names if TRADING_NAME_RE.search(name) and name not in MARKET_DATA_NAMES)


TRADING_METHOD_NAMES = _trading_names()


def is_trading_name(name: str) -> bool:
    """True for the libraries' trading methods and anything named like one."""
    if name in MARKET_DATA_NAMES:
        return False
    return name in TRADING_METHOD_NAMES or bool(TRADING_NAME_RE.search(name))
