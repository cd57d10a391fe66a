"""Tripwires are default-deny: any request that is not a public market-data endpoint or a
permission/fee look-up the product uses is refused and recorded, whatever its case or method,
REST or WebSocket. This simulator has its own tripwire log (the suite's stays clean)."""

from __future__ import annotations

import aiohttp
import pytest

from apps.market.simulator import ExchangeSimulator

BINANCE = [
    ("POST", "/api/v3/order"),
    ("post", "/API/V3/ORDER"),
    ("POST", "/api/v3/Order"),
    ("DELETE", "/api/v3/openOrders"),
    ("DELETE", "/api/v3/OPENORDERS"),
    ("POST", "/api/v3/order/oco"),
    ("POST", "/api/v3/orderList/otoco"),
    ("POST", "/api/v3/sor/order"),
    ("PUT", "/api/v3/order/amend/keepPriority"),
    ("POST", "/sapi/v1/sub-account/universalTransfer"),
    ("POST", "/sapi/v1/convert/acceptQuote"),
    ("POST", "/sapi/v1/asset/dust"),
    ("POST", "/sapi/v1/asset/transfer"),
    ("POST", "/sapi/v1/capital/withdraw/apply"),
    ("POST", "/sapi/v1/margin/order"),
    ("POST", "/sapi/v1/margin/loan"),
    ("POST", "/sapi/v1/futures/transfer"),
    ("POST", "/sapi/v1/simple-earn/flexible/subscribe"),
    ("POST", "/sapi/v1/lending/auto-invest/plan/add"),
    ("POST", "/sapi/v1/giftcard/createCode"),
    ("POST", "/sapi/v1/c2c/orderMatch/placeOrder"),
    ("POST", "/sapi/v1/loan/borrow"),
    ("POST", "/fapi/v1/order"),
    ("POST", "/dapi/v1/order"),
    ("GET", "/api/v3/account"),
    ("GET", "/sapi/v1/capital/config/getall"),
    ("POST", "/api/v3/userDataStream"),
    ("POST", "/api/v3/klines"),  # a public path with a method it does not serve
    ("DELETE", "/api/v3/depth"),
    ("GET", "/api/V3/KLINES"),
    ("GET", "/ws-api/v3"),
    ("GET", "/nope"),
]
KUCOIN = [
    ("POST", "/api/v1/orders"),
    ("post", "/API/V1/ORDERS"),
    ("POST", "/api/v1/hf/orders"),
    ("DELETE", "/api/v1/orders/abc"),
    ("POST", "/api/v1/stop-order"),
    ("POST", "/api/v1/margin/order"),
    ("POST", "/api/v3/withdrawals"),
    ("POST", "/api/v1/withdrawals"),
    ("POST", "/api/v2/accounts/inner-transfer"),
    ("POST", "/api/v3/accounts/universal-transfer"),
    ("POST", "/api/ua/v1/unified/order/place"),
    ("POST", "/api/v1/bullet-private"),
    ("POST", "/api/v3/hf/margin/order"),
    ("POST", "/api/v1/convert/order"),
    ("POST", "/api/v1/earn/orders"),
    ("GET", "/api/v1/accounts"),
    ("POST", "/api/v1/market/candles"),
    ("GET", "/API/V1/MARKET/CANDLES"),
    ("GET", "/nope"),
]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("tripwires") / "tripwires.jsonl"
    simulator = ExchangeSimulator(seed=9, symbols=["BTCUSDT"], tripwire_log=log).start_in_thread()
    yield simulator
    simulator.stop_thread()


async def _hit(base: str, method: str, path: str) -> int:
    async with aiohttp.ClientSession() as session, session.request(method.upper(), base + path) as r:
        await r.read()
        return r.status


@pytest.mark.parametrize(("method", "path"), BINANCE)
async def test_binance_non_public_requests_are_refused_and_recorded(sim, method, path) -> None:  # type: ignore[no-untyped-def]
    before = len(sim.tripwire_hits)
    status = await _hit(sim.binance_rest_url, method, path)
    assert status in (401, 403)
    assert len(sim.tripwire_hits) == before + 1 and sim.tripwire_hits[-1]["path"] == path


@pytest.mark.parametrize(("method", "path"), KUCOIN)
async def test_kucoin_non_public_requests_are_refused_and_recorded(sim, method, path) -> None:  # type: ignore[no-untyped-def]
    before = len(sim.tripwire_hits)
    status = await _hit(sim.kucoin_rest_url, method, path)
    assert status in (401, 403)
    assert len(sim.tripwire_hits) == before + 1 and sim.tripwire_hits[-1]["path"] == path


async def test_public_endpoints_still_answer_unrecorded(sim) -> None:  # type: ignore[no-untyped-def]
    before = len(sim.tripwire_hits)
    for path in ("/api/v3/ping", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2", "/api/v3/depth?symbol=BTCUSDT"):
        assert await _hit(sim.binance_rest_url, "GET", path) == 200
    for path in ("/api/v1/timestamp", "/api/v1/market/candles?symbol=BTC-USDT&type=1min"):
        assert await _hit(sim.kucoin_rest_url, "GET", path) == 200
    assert await _hit(sim.kucoin_rest_url, "POST", "/api/v1/bullet-public") == 200
    assert len(sim.tripwire_hits) == before
