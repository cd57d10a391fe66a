"""Bad ``limit`` (and time) parameters are refused as the exchanges refuse them, and the
product's clients never send one (docs/SIMULATOR.md, "Parameters").

Binance (rest-api.md): integer parameters must match ^[0-9]{1,20}$, else -1100; klines, trades
and aggTrades take at most 1000, depth at most 5000 ("only 5000 entries will be returned").
A 0, or over 1000 where the docs do not say the answer is truncated, is -1130 [unknown: the
stricter choice]. KuCoin has no limit parameter: level2 comes in sizes 20 and 100 only (any
other size is not a public path: a tripwire), candles answer at most 1500 rows, and
startAt/endAt are whole seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest

from apps.market.feeds.adapters import adapter_build
from apps.market.feeds.embedded import simulator_urls
from apps.market.simulator import ExchangeSimulator

MINUTE = 60_000
BINANCE_LIMITED = [
    ("/api/v3/klines", {"interval": "1m"}, 1000),
    ("/api/v3/uiKlines", {"interval": "1m"}, 1000),
    ("/api/v3/trades", {}, 1000),
    ("/api/v3/aggTrades", {}, 1000),
    ("/api/v3/depth", {}, 5000),
]


async def _get(url: str, params: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        return response.status, await response.json()


BAD_LIMITS = [("-1", -1100), ("abc", -1100), ("", -1100), ("1.5", -1100), ("0", -1130)]
CASES = [(path, extra, limit, code) for path, extra, _ in BINANCE_LIMITED for limit, code in BAD_LIMITS]
CASES += [(path, extra, str(maximum + 1), -1130) for path, extra, maximum in BINANCE_LIMITED if maximum == 1000]


@pytest.mark.parametrize(("path", "extra", "limit", "code"), CASES)
async def test_binance_refuses_a_bad_limit(
    exchange_sim: ExchangeSimulator, path: str, extra: dict[str, str], limit: str, code: int
) -> None:
    params = {"symbol": "BTCUSDT", **extra, "limit": limit}
    status, body = await _get(exchange_sim.binance_rest_url + path, params)
    assert (status, body["code"]) == (400, code), body
    if code == -1100:
        assert body["msg"] == "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."
    else:
        assert body["msg"] == "Data sent for parameter 'limit' is not valid."


@pytest.mark.parametrize(("path", "extra", "maximum"), BINANCE_LIMITED)
async def test_binance_answers_the_maximum(
    exchange_sim: ExchangeSimulator, path: str, extra: dict[str, str], maximum: int
) -> None:
    status, body = await _get(exchange_sim.binance_rest_url + path, {"symbol": "BTCUSDT", **extra, "limit": "1"})
    assert status == 200
    status, _ = await _get(exchange_sim.binance_rest_url + path, {"symbol": "BTCUSDT", **extra, "limit": str(maximum)})
    assert status == 200


async def test_binance_depth_truncates_at_5000(exchange_sim: ExchangeSimulator) -> None:
    url = exchange_sim.binance_rest_url + "/api/v3/depth"
    async with aiohttp.ClientSession() as session, session.get(url, params={"symbol": "BTCUSDT", "limit": "9000"}) as r:
        body = await r.json()
        assert r.status == 200 and r.headers["X-MBX-USED-WEIGHT-1M"] == "250"
    assert 0 < len(body["bids"]) <= 5000 and 0 < len(body["asks"]) <= 5000


@pytest.mark.parametrize("name", ["startTime", "endTime"])
@pytest.mark.parametrize("value", ["-1", "None", ""])
async def test_binance_refuses_a_bad_time(exchange_sim: ExchangeSimulator, name: str, value: str) -> None:
    params = {"symbol": "BTCUSDT", "interval": "1m", name: value}
    status, body = await _get(exchange_sim.binance_rest_url + "/api/v3/klines", params)
    assert (status, body["code"]) == (400, -1100)
    assert body["msg"] == f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."


@pytest.mark.parametrize("name", ["startAt", "endAt"])
@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "²"])
async def test_kucoin_refuses_bad_candle_times(exchange_sim: ExchangeSimulator, name: str, value: str) -> None:
    params = {"symbol": "BTC-USDT", "type": "1min", name: value}
    status, body = await _get(exchange_sim.kucoin_rest_url + "/api/v1/market/candles", params)
    assert (status, body["code"]) == (400, "400100")


async def test_kucoin_candles_answer_at_most_1500_rows(exchange_sim: ExchangeSimulator) -> None:
    end_s = exchange_sim.now_ms() // 1000
    params = {"symbol": "BTC-USDT", "type": "1min", "startAt": str(end_s - 3000 * 60), "endAt": str(end_s)}
    status, body = await _get(exchange_sim.kucoin_rest_url + "/api/v1/market/candles", params)
    assert status == 200 and len(body["data"]) == 1500


@pytest.mark.parametrize("size", ["20", "100"])
async def test_kucoin_level2_sizes(exchange_sim: ExchangeSimulator, size: str) -> None:
    url = f"{exchange_sim.kucoin_rest_url}/api/v1/market/orderbook/level2_{size}"
    async with aiohttp.ClientSession() as session, session.get(url, params={"symbol": "BTC-USDT"}) as r:
        body = await r.json()
        assert r.status == 200 and r.headers["gw-ratelimit-remaining"] == "1998"  # weight 2 of the Public pool
    data = body["data"]
    assert set(data) == {"time", "sequence", "bids", "asks"}
    assert isinstance(data["time"], int) and isinstance(data["sequence"], str)
    bids = [float(p) for p, _ in data["bids"]]
    asks = [float(p) for p, _ in data["asks"]]
    assert len(bids) == len(asks) == int(size)
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]


@pytest.fixture
def own_log_sim(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A simulator with a tripwire log of its own: the suite's end-of-run check stays clean."""
    sim = ExchangeSimulator(seed=9, symbols=["BTCUSDT"], tripwire_log=tmp_path / "tripwires.jsonl").start_in_thread()
    yield sim
    sim.stop_thread()


@pytest.mark.parametrize("size", ["0", "-1", "5", "50", "5000"])
async def test_kucoin_level2_other_sizes_are_not_public(own_log_sim: ExchangeSimulator, size: str) -> None:
    url = f"{own_log_sim.kucoin_rest_url}/api/v1/market/orderbook/level2_{size}"
    status, body = await _get(url, {"symbol": "BTC-USDT"})
    assert (status, body["code"]) == (403, "400007")
    assert own_log_sim.tripwire_hits[-1]["path"] == f"/api/v1/market/orderbook/level2_{size}"


# -- the product's clients -----------------------------------------------------------------
def _sent(sim: ExchangeSimulator, exchange: str, path: str) -> list[dict[str, list[str]]]:
    hits = [h for h in sim.rest_hits(exchange) if h.path == path]
    assert hits and {h.status for h in hits} == {200}, [(h.status, h.query) for h in hits]
    return [parse_qs(h.query) for h in hits]


def test_product_binance_backfill_pages_within_the_limit(exchange_sim: ExchangeSimulator) -> None:
    """The feed's kline backfill (2500 minutes: three pages) sends limit=1000 and digits only."""

    async def run() -> int:
        adapter = adapter_build("binance", urls=simulator_urls(exchange_sim), rest_rps=50, queue_size=100)
        await adapter.open()
        try:
            end = exchange_sim.now_ms()
            return len(await adapter.klines("BTCUSDT", "1m", end - 2500 * MINUTE, end))
        finally:
            await adapter.close()

    assert asyncio.run(run()) >= 2500
    sent = _sent(exchange_sim, "binance", "/api/v3/klines")
    assert len(sent) == 3
    for query in sent:
        assert query["limit"] == ["1000"]
        assert all(query[k][0].isdigit() for k in ("startTime", "endTime"))


def test_product_kucoin_backfill_stays_within_1500_rows(exchange_sim: ExchangeSimulator) -> None:
    """The feed's KuCoin backfill asks for at most 1500 rows a request, in whole seconds."""

    async def run() -> int:
        adapter = adapter_build("kucoin", urls=simulator_urls(exchange_sim), rest_rps=50, queue_size=100)
        await adapter.open()
        try:
            end = exchange_sim.now_ms()
            return len(await adapter.klines("BTCUSDT", "1m", end - 2500 * MINUTE, end))
        finally:
            await adapter.close()

    assert asyncio.run(run()) >= 2499  # the first, partial minute is not asked for
    sent = _sent(exchange_sim, "kucoin", "/api/v1/market/candles")
    assert len(sent) == 2
    for query in sent:
        start, end = int(query["startAt"][0]), int(query["endAt"][0])
        assert 0 <= start < end and (end - start) // 60 + 1 <= 1500
