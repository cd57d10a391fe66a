"""History starts at each symbol's listing, and long history is answered without stalling
either exchange or any stream (the timing is measured by bench/sim_history.py)."""

from __future__ import annotations

import asyncio
import threading

from apps.market.simulator import ExchangeSimulator
from apps.market.simulator.symbols import DEFAULT_SPECS

from .clients import Market, binance_client, binance_sockets

DAY = 86_400_000


async def test_binance_klines_start_at_the_listing(exchange_sim: ExchangeSimulator) -> None:
    listed = DEFAULT_SPECS["BTCUSDT"].binance.listed_ms
    assert listed == 1_502_942_400_000  # 2017-08-17 04:00 UTC, Binance's first BTCUSDT trade
    client = await binance_client(exchange_sim)
    try:
        rows = await client.get_klines(symbol="BTCUSDT", interval="1d", startTime=0, limit=5)
        assert rows[0][0] == listed - listed % DAY  # the listing day's candle comes first
        assert await client.get_klines(symbol="BTCUSDT", interval="1d", endTime=listed - DAY, limit=5) == []
        weekly = await client.get_klines(symbol="BTCUSDT", interval="1w", limit=1000)
        assert 400 < len(weekly) < 1000 and weekly[0][0] > listed - 7 * DAY
    finally:
        await client.close_connection()


def test_kucoin_candles_start_at_the_listing(exchange_sim: ExchangeSimulator) -> None:
    listed = DEFAULT_SPECS["BTCUSDT"].kucoin.listed_ms
    market = Market(url=exchange_sim.kucoin_rest_url)
    before = market.get_kline("BTC-USDT", "1day", startAt=listed // 1000 - 30 * 86400, endAt=listed // 1000 - 86400)
    assert before == {"code": "200000", "data": []}  # kucoin-python hands back the envelope for []
    rows = market.get_kline("BTC-USDT", "1day", startAt=listed // 1000 - 30 * 86400, endAt=listed // 1000 + 9 * 86400)
    assert int(rows[-1][0]) * 1000 == listed - listed % DAY and len(rows) == 10


async def test_long_history_completes_while_every_stream_keeps_flowing(exchange_sim_factory) -> None:  # type: ignore[no-untyped-def]
    sim: ExchangeSimulator = exchange_sim_factory(seed=77)  # a seed of its own: a cold history cache
    answers: dict[str, int] = {}

    def long_kucoin() -> None:
        for name in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
            answers[name] = len(Market(url=sim.kucoin_rest_url).get_kline(name, "1week"))

    client = await binance_client(sim)
    try:
        async with binance_sockets(sim, client).multiplex_socket(["btcusdt@trade", "ethusdt@kline_1m"]) as socket:
            await asyncio.wait_for(socket.recv(), 10)
            kucoin = threading.Thread(target=long_kucoin)
            kucoin.start()
            for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT"):
                answers[symbol] = len(await client.get_klines(symbol=symbol, interval="1w", limit=1000))
            await asyncio.get_running_loop().run_in_executor(None, kucoin.join)
            frames = [await asyncio.wait_for(socket.recv(), 10) for _ in range(50)]
    finally:
        await client.close_connection()
    assert all(n > 200 for n in answers.values()) and len(answers) == 6, answers
    assert {f["stream"] for f in frames} == {"btcusdt@trade", "ethusdt@kline_1m"}
