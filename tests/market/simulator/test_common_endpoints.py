"""Endpoints common clients call by default, through the real clients."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp

from apps.market.simulator import ExchangeSimulator

from .clients import Market, binance_client


async def test_binance_avg_price_agg_trades_and_system_status(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        avg = await client.get_avg_price(symbol="BTCUSDT")
        assert avg["mins"] == 5 and Decimal(avg["price"]) > 0
        aggs: list = []
        for _ in range(100):  # a fresh simulator: wait for its first trades
            aggs = await client.get_aggregate_trades(symbol="ETHUSDT", limit=5)
            if len(aggs) == 5:
                break
            await asyncio.sleep(0.1)
        assert len(aggs) == 5 and {"a", "p", "q", "f", "l", "T", "m", "M"} <= set(aggs[0])
        assert await client.get_system_status() == {"status": 0, "msg": "normal"}
    finally:
        await client.close_connection()
    assert exchange_sim.tripwire_hits == []


async def test_kucoin_status_and_currencies(exchange_sim: ExchangeSimulator) -> None:
    assert Market(url=exchange_sim.kucoin_rest_url).get_server_status() == {"status": "open", "msg": ""}
    async with aiohttp.ClientSession() as s, s.get(exchange_sim.kucoin_rest_url + "/api/v3/currencies") as r:
        body = await r.json()
    assert r.status == 200 and {"BTC", "USDT"} <= {c["currency"] for c in body["data"]}
    assert exchange_sim.tripwire_hits == []
