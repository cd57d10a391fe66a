"""Per-connection stream state: a (re)subscriber gets the current candle only, never the
closes it missed (those come from REST), as Binance and KuCoin stream them."""

from __future__ import annotations

import asyncio

from apps.market.simulator import ExchangeSimulator

from .clients import binance_client, binance_sockets, kucoin_ws, kucoin_ws_close

MINUTE = 60_000


async def _wait_sim_minutes(sim: ExchangeSimulator, minutes: int) -> None:
    target = sim.now_ms() + minutes * MINUTE
    while sim.now_ms() < target:
        await asyncio.sleep(0.05)


async def test_binance_resubscriber_gets_no_closed_candle_from_before_it_connected(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=8, clock_speed=120.0, symbols=["BTCUSDT"])
    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).kline_socket("BTCUSDT", "1m") as first:
            assert (await asyncio.wait_for(first.recv(), 10))["e"] == "kline"
        await _wait_sim_minutes(sim, 3)  # closes happen while nobody listens
        connected = sim.now_ms()
        frames = []
        async with binance_sockets(sim, client).kline_socket("BTCUSDT", "1m") as again:
            while sum(1 for f in frames if f["k"]["x"]) < 2:  # two closes seen live
                frames.append(await asyncio.wait_for(again.recv(), 10))
    finally:
        await client.close_connection()
    stale = [f["k"]["t"] for f in frames if f["k"]["x"] and f["k"]["T"] < connected]
    assert stale == []
    assert frames[0]["k"]["x"] is False and frames[0]["k"]["T"] >= connected


async def test_kucoin_resubscriber_gets_no_old_candle_bucket(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=8, clock_speed=120.0, symbols=["BTCUSDT"])
    frames: list[dict] = []

    async def on_message(message: dict) -> None:
        frames.append(message)

    topic = "/market/candles:BTC-USDT_1min"
    client = await kucoin_ws(sim, on_message)
    try:
        await client.subscribe(topic)
        while not frames:
            await asyncio.sleep(0.05)
        await client.unsubscribe(topic)
        await _wait_sim_minutes(sim, 3)
        frames.clear()
        connected = sim.now_ms()
        await client.subscribe(topic)
        while len({f["data"]["candles"][0] for f in frames}) < 3:  # three buckets seen live
            await asyncio.sleep(0.05)
    finally:
        await kucoin_ws_close(client)
    stale = [f["data"]["candles"][0] for f in frames if int(f["data"]["candles"][0]) * 1000 + MINUTE <= connected]
    assert stale == []
