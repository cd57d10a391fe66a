"""Binance error codes: a symbol with illegal characters (lowercase included) is -1100, not
-1121 (rest-api.md: symbol must match ^[A-Z0-9-_.]{1,20}$); an unknown legal one is -1121."""

from __future__ import annotations

import pytest
from binance.exceptions import BinanceAPIException

from apps.market.simulator import ExchangeSimulator

from .clients import binance_client


@pytest.mark.parametrize(("symbol", "code"), [("btcusdt", -1100), ("BTC/USDT", -1100), ("NOPEUSDT", -1121)])
async def test_symbol_errors(exchange_sim: ExchangeSimulator, symbol: str, code: int) -> None:
    client = await binance_client(exchange_sim)
    try:
        with pytest.raises(BinanceAPIException) as err:
            await client.get_klines(symbol=symbol, interval="1m", limit=1)
        assert err.value.code == code and err.value.status_code == 400
    finally:
        await client.close_connection()
