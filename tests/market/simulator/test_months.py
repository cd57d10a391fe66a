"""Monthly candles: Binance ``1M`` (REST and ``@kline_1M``), KuCoin ``1month`` (REST only), in
UTC calendar months, each the merge of its days (docs/SIMULATOR.md, "Calendar months")."""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime

import aiohttp
import pytest

from apps.market.simulator import ExchangeSimulator
from apps.market.simulator.intervals import align, next_open, opens_until, shift

DAY = 86_400_000


def _ms(year: int, month: int, day: int = 1) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0)) * 1000


def test_month_alignment_is_the_calendar() -> None:
    assert align(_ms(2024, 2, 29) + 5, "1M") == _ms(2024, 2)
    assert next_open(_ms(2024, 2), "1M") - _ms(2024, 2) == 29 * DAY  # a leap February
    assert next_open(_ms(2023, 12), "1M") == _ms(2024, 1)
    assert shift(_ms(2024, 1), "1M", -13) == _ms(2022, 12)
    assert opens_until("1M", _ms(2024, 3), 3) == [_ms(2024, 1), _ms(2024, 2), _ms(2024, 3)]


async def _get(url: str, params: dict[str, str]) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        return response.status, await response.json()


async def test_binance_monthly_klines_are_calendar_months_of_their_days() -> None:
    start = _ms(2024, 5, 17) + 3_600_000
    sim = ExchangeSimulator(seed=3, symbols=["BTCUSDT"], start_time_ms=start).start_in_thread()
    try:
        url = sim.binance_rest_url + "/api/v3/klines"
        status, rows = await _get(url, {"symbol": "BTCUSDT", "interval": "1M", "limit": "4"})
        assert status == 200
        opens = [r[0] for r in rows]  # type: ignore[index, union-attr]
        assert opens == [_ms(2024, 2), _ms(2024, 3), _ms(2024, 4), _ms(2024, 5)]
        assert [r[6] for r in rows] == [_ms(2024, 3) - 1, _ms(2024, 4) - 1, _ms(2024, 5) - 1, _ms(2024, 6) - 1]  # type: ignore[index, union-attr]
        march = rows[1]  # type: ignore[index]
        params = {
            "symbol": "BTCUSDT",
            "interval": "1d",
            "startTime": str(_ms(2024, 3)),
            "endTime": str(_ms(2024, 3, 31)),
        }
        _, days = await _get(url, params)
        assert len(days) == 31  # type: ignore[arg-type]
        assert march[1] == days[0][1] and march[4] == days[-1][4]  # type: ignore[index]
        assert float(march[2]) == max(float(d[2]) for d in days)  # type: ignore[union-attr]
        assert float(march[3]) == min(float(d[3]) for d in days)  # type: ignore[union-attr]
        assert march[8] == sum(d[8] for d in days)  # type: ignore[union-attr]
    finally:
        sim.stop_thread()


async def test_binance_first_month_starts_at_the_listing() -> None:
    """BTCUSDT listed 2017-08-17: its first monthly kline is August 2017."""
    sim = ExchangeSimulator(seed=3, symbols=["BTCUSDT"]).start_in_thread()
    try:
        params = {"symbol": "BTCUSDT", "interval": "1M", "startTime": "0", "limit": "3"}
        status, rows = await _get(sim.binance_rest_url + "/api/v3/klines", params)
        assert status == 200
        assert [r[0] for r in rows] == [_ms(2017, 8), _ms(2017, 9), _ms(2017, 10)]  # type: ignore[index, union-attr]
    finally:
        sim.stop_thread()


async def test_binance_kline_1m_stream_carries_the_month() -> None:
    sim = ExchangeSimulator(seed=3, symbols=["BTCUSDT"]).start_in_thread()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(sim.binance_ws_url + "ws/btcusdt@kline_1M") as ws,
        ):
            frame = json.loads((await ws.receive(timeout=10)).data)["k"]
        now = datetime.now(UTC)
        month = _ms(now.year, now.month)
        assert (frame["i"], frame["t"], frame["T"]) == ("1M", month, next_open(month, "1M") - 1)
    finally:
        sim.stop_thread()


async def test_kucoin_1month_candles_and_no_monthly_topic() -> None:
    sim = ExchangeSimulator(seed=3, symbols=["BTCUSDT"], start_time_ms=_ms(2024, 5, 17)).start_in_thread()
    try:
        params = {"symbol": "BTC-USDT", "type": "1month", "startAt": str(_ms(2024, 1) // 1000)}
        status, body = await _get(sim.kucoin_rest_url + "/api/v1/market/candles", params)
        assert status == 200
        opens = [int(r[0]) * 1000 for r in body["data"]]  # type: ignore[index]
        assert opens == [_ms(2024, 5), _ms(2024, 4), _ms(2024, 3), _ms(2024, 2), _ms(2024, 1)]  # newest first
    finally:
        sim.stop_thread()


@pytest.mark.parametrize(
    ("topic", "answer"), [("/market/candles:BTC-USDT_1week", "ack"), ("/market/candles:BTC-USDT_1month", "error")]
)
async def test_kucoin_candle_topic_types(exchange_sim: ExchangeSimulator, topic: str, answer: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(exchange_sim.kucoin_rest_url + "/api/v1/bullet-public") as r:
            token = (await r.json())["data"]["token"]
        async with session.ws_connect(f"ws://127.0.0.1:{exchange_sim.kucoin_port}/?token={token}&connectId=c1") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "welcome"
            await ws.send_json({"id": "7", "type": "subscribe", "topic": topic, "response": True})
            reply = json.loads((await ws.receive(timeout=5)).data)
    assert reply["type"] == answer and reply["id"] == "7"
