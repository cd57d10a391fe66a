"""KuCoin /market/snapshot:{symbol} (universal SDK ws spec, symbolSnapshot): subject
trade.snapshot, once every 2 s, numbers as JSON numbers, the 24 h figures those of REST stats;
a quiet pair's missing values are null (docs/SIMULATOR.md, "KuCoin snapshot")."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from apps.market.simulator import ExchangeSimulator

NUMBERS = ("askSize", "bidSize", "buy", "sell", "high", "low", "open", "close", "lastTradedPrice", "averagePrice")
NUMBERS += ("changePrice", "changeRate", "vol", "volValue", "makerFeeRate", "takerFeeRate")
WINDOW = {"changePrice", "changeRate", "high", "low", "open", "vol", "volValue"}


async def _snapshots(sim: ExchangeSimulator, topic: str, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        async with session.post(sim.kucoin_rest_url + "/api/v1/bullet-public") as r:
            token = (await r.json())["data"]["token"]
        async with session.ws_connect(f"ws://127.0.0.1:{sim.kucoin_port}/?token={token}&connectId=s1") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "welcome"
            await ws.send_json({"id": "1", "type": "subscribe", "topic": topic, "response": True})
            reply = json.loads((await ws.receive(timeout=5)).data)
            if reply["type"] != "ack":
                return [reply]
            while len(out) < count:
                message = (await ws.receive(timeout=10)).data
                out.append(json.loads(message, parse_float=Decimal))
    return out


async def test_snapshot_of_a_symbol(exchange_sim: ExchangeSimulator) -> None:
    first, second = await _snapshots(exchange_sim, "/market/snapshot:BTC-USDT", 2)
    for message in (first, second):
        assert (message["type"], message["topic"], message["subject"]) == (
            "message",
            "/market/snapshot:BTC-USDT",
            "trade.snapshot",
        )
        assert isinstance(message["data"]["sequence"], str)
    data = second["data"]["data"]
    assert data["symbol"] == data["symbolCode"] == "BTC-USDT"
    assert (data["baseCurrency"], data["quoteCurrency"], data["market"]) == ("BTC", "USDT", "USDS")
    assert data["datetime"] > first["data"]["data"]["datetime"]
    for field in NUMBERS:
        assert isinstance(data[field], Decimal | int), (field, data[field])  # a JSON number, never a string
    for window in ("marketChange1h", "marketChange4h", "marketChange24h"):
        assert set(data[window]) == WINDOW
        assert all(isinstance(v, Decimal | int) for v in data[window].values())
    assert data["marketChange1h"]["vol"] <= data["marketChange4h"]["vol"] <= data["vol"]
    assert data["buy"] < data["sell"]


async def test_snapshot_agrees_with_rest_stats(exchange_sim: ExchangeSimulator) -> None:
    """Both read the same rolling 24 h window (read a moment apart: within 1 %)."""
    (message,) = await _snapshots(exchange_sim, "/market/snapshot:BTC-USDT", 1)
    url = exchange_sim.kucoin_rest_url + "/api/v1/market/stats"
    async with aiohttp.ClientSession() as session, session.get(url, params={"symbol": "BTC-USDT"}) as r:
        stats = (await r.json())["data"]
    data = message["data"]["data"]
    for field in ("vol", "volValue", "high", "low"):
        assert abs(Decimal(stats[field]) - data[field]) <= data[field] / 100, field


@pytest.mark.parametrize("topic", ["/market/snapshot:BTC-USDT,ETH-USDT", "/market/snapshot:USDS", "/market/snapshot:"])
async def test_snapshot_topics_not_served(exchange_sim: ExchangeSimulator, topic: str) -> None:
    (reply,) = await _snapshots(exchange_sim, topic, 1)
    assert (reply["type"], reply["code"], reply["id"]) == ("error", 404, "1")
