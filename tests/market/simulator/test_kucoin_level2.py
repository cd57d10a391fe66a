"""KuCoin /market/level2:{symbol} (trade.l2update) with the full REST book to calibrate against,
by the legacy docs' procedure: buffer updates, fetch /api/v3/market/orderbook/level2 (signed),
apply the updates past its sequence; sequenceStart is always the previous sequenceEnd + 1 and
the local book equals the REST book at the same sequence (docs/SIMULATOR.md)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from apps.market.simulator import ExchangeSimulator

from .clients import Market

Book = dict[str, dict[Decimal, Decimal]]


async def _update(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = json.loads((await ws.receive(timeout=10)).data)
    assert (message["topic"], message["subject"]) == ("/market/level2:BTC-USDT", "trade.l2update"), message
    return message["data"]


def _book(rest: dict[str, Any]) -> Book:
    return {side: {Decimal(p): Decimal(q) for p, q in rest[side]} for side in ("bids", "asks")}


def _apply(book: Book, update: dict[str, Any]) -> None:
    for side in ("bids", "asks"):
        for price, size, sequence in update["changes"][side]:
            assert int(sequence) == update["sequenceEnd"]
            if Decimal(size) == 0:
                book[side].pop(Decimal(price), None)
            else:
                book[side][Decimal(price)] = Decimal(size)


def _top(book: Book, n: int) -> Book:
    bids = sorted(book["bids"].items(), reverse=True)[:n]
    return {"bids": dict(bids), "asks": dict(sorted(book["asks"].items())[:n])}


async def test_level2_calibrates_a_local_book(exchange_sim: ExchangeSimulator) -> None:
    exchange_sim.add_api_key("kucoin", "l2key", "l2secret", passphrase="l2pass")
    market = Market("l2key", "l2secret", "l2pass", url=exchange_sim.kucoin_rest_url)
    async with aiohttp.ClientSession() as session:
        async with session.post(exchange_sim.kucoin_rest_url + "/api/v1/bullet-public") as r:
            token = (await r.json())["data"]["token"]
        async with session.ws_connect(f"ws://127.0.0.1:{exchange_sim.kucoin_port}/?token={token}&connectId=l2") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "welcome"
            await ws.send_json({"id": "1", "type": "subscribe", "topic": "/market/level2:BTC-USDT", "response": True})
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "ack"
            buffered = [await _update(ws)]
            full = await asyncio.to_thread(market.get_aggregated_orderv3, "BTC-USDT")
            book, sequence = _book(full), int(full["sequence"])
            assert len(book["bids"]) > 100 and len(book["asks"]) > 100  # deeper than level2_100
            applied = 0
            while applied < 10:
                update = buffered.pop(0) if buffered else await _update(ws)
                if update["sequenceEnd"] <= sequence:
                    continue
                assert update["sequenceStart"] == sequence + 1  # no gap, no overlap
                _apply(book, update)
                sequence, applied = update["sequenceEnd"], applied + 1
            later = await asyncio.to_thread(market.get_aggregated_orderv3, "BTC-USDT")
            while sequence < int(later["sequence"]):
                update = await _update(ws)
                assert update["sequenceStart"] == sequence + 1
                _apply(book, update)
                sequence = update["sequenceEnd"]
    assert sequence == int(later["sequence"])
    assert _top(book, 200) == _top(_book(later), 200)


async def test_full_book_needs_a_key(exchange_sim: ExchangeSimulator) -> None:
    url = exchange_sim.kucoin_rest_url + "/api/v3/market/orderbook/level2"
    async with aiohttp.ClientSession() as session, session.get(url, params={"symbol": "BTC-USDT"}) as r:
        body = await r.json()
    assert r.status in (400, 401) and body["code"].startswith("4000"), body


@pytest.mark.parametrize("topic", ["/market/level2:BTC-USDT,ETH-USDT"])
async def test_level2_takes_a_list_of_symbols(exchange_sim: ExchangeSimulator, topic: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(exchange_sim.kucoin_rest_url + "/api/v1/bullet-public") as r:
            token = (await r.json())["data"]["token"]
        async with session.ws_connect(f"ws://127.0.0.1:{exchange_sim.kucoin_port}/?token={token}&connectId=l3") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "welcome"
            await ws.send_json({"id": "2", "type": "subscribe", "topic": topic, "response": True})
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "ack"
            symbols = set()
            while symbols != {"BTC-USDT", "ETH-USDT"}:
                symbols.add(json.loads((await ws.receive(timeout=10)).data)["data"]["symbol"])
