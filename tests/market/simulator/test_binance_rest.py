"""Binance REST conformance with the real python-binance AsyncClient."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from binance.exceptions import BinanceAPIException

from apps.market.simulator import ExchangeSimulator

from .clients import binance_client

INTERVAL_MS = 60_000


async def test_create_calls_ping_and_time_and_exchange_info_parses(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        assert abs(client.timestamp_offset) < 1000  # wall-clock mode
        info = await client.get_exchange_info()
        symbols = {s["symbol"]: s for s in info["symbols"]}
        assert set(symbols) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"}
        filters = {f["filterType"]: f for f in symbols["BTCUSDT"]["filters"]}
        assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == Decimal("0.01")
        assert Decimal(filters["LOT_SIZE"]["stepSize"]) == Decimal("0.00001")
        assert Decimal(filters["NOTIONAL"]["minNotional"]) == Decimal("5")
        assert info["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        one = await client.get_symbol_info("ETHUSDT")
        assert one["baseAsset"] == "ETH" and one["quoteAsset"] == "USDT"
        assert int(client.response.headers["X-MBX-USED-WEIGHT-1M"]) >= 40
    finally:
        await client.close_connection()


async def test_klines_rows_and_window_semantics(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        newest = await client.get_klines(symbol="BTCUSDT", interval="1m", limit=5)
        assert len(newest) >= 4 and all(len(r) == 12 for r in newest)
        assert all(isinstance(v, str) for r in newest for v in (r[1], r[2], r[3], r[4], r[5], r[7], r[9], r[10]))
        assert newest[-1][0] == exchange_sim.now_ms() // INTERVAL_MS * INTERVAL_MS or len(newest) == 4
        start = newest[0][0] // 3_600_000 * 3_600_000 - 3 * 86_400_000  # deep history, oldest first
        rows = await client.get_klines(symbol="BTCUSDT", interval="1h", startTime=start, limit=10)
        later = await client.get_klines(symbol="BTCUSDT", interval="1h", startTime=start + 1, limit=1)
        assert later[0][0] == start + 3_600_000  # open time >= startTime
        assert [r[0] for r in rows] == [start + i * 3_600_000 for i in range(10)]
        assert all(r[6] == r[0] + 3_600_000 - 1 for r in rows)
        for r in rows:
            o, h, low, c = (Decimal(x) for x in r[1:5])
            assert low <= min(o, c) <= max(o, c) <= h
        ended = await client.get_klines(symbol="BTCUSDT", interval="1d", endTime=start, limit=3)
        assert ended[-1][0] <= start and len(ended) == 3
    finally:
        await client.close_connection()


async def test_ticker_depth_and_errors(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        ticker = await client.get_ticker(symbol="ETHUSDT")
        for field in (
            "priceChange",
            "priceChangePercent",
            "weightedAvgPrice",
            "prevClosePrice",
            "lastPrice",
            "lastQty",
            "bidPrice",
            "bidQty",
            "askPrice",
            "askQty",
            "openPrice",
            "highPrice",
            "lowPrice",
            "volume",
            "quoteVolume",
            "openTime",
            "closeTime",
            "firstId",
            "lastId",
            "count",
        ):
            assert field in ticker
        assert Decimal(ticker["bidPrice"]) < Decimal(ticker["askPrice"])
        assert len(await client.get_ticker()) == 6
        book = await client.get_order_book(symbol="BTCUSDT", limit=50)
        assert len(book["bids"]) == 50 and len(book["asks"]) == 50
        bids = [Decimal(p) for p, _ in book["bids"]]
        assert bids == sorted(bids, reverse=True) and bids[0] < Decimal(book["asks"][0][0])
        with pytest.raises(BinanceAPIException) as err:
            await client.get_klines(symbol="NOPEUSDT", interval="1m")
        assert (err.value.status_code, err.value.code, err.value.message) == (400, -1121, "Invalid symbol.")
        assert "X-MBX-USED-WEIGHT-1M" in client.response.headers
        with pytest.raises(BinanceAPIException) as err:
            await client.get_klines(symbol="BTCUSDT", interval="7m")
        assert err.value.code == -1120
    finally:
        await client.close_connection()


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limit_fault(exchange_sim: ExchangeSimulator, status: int) -> None:
    client = await binance_client(exchange_sim)
    try:
        exchange_sim.faults.rate_limit("binance", status=status, retry_after=7, count=2)
        for _ in range(2):
            with pytest.raises(BinanceAPIException) as err:
                await client.get_server_time()
            assert (err.value.status_code, err.value.code) == (status, -1003)
            assert client.response.headers["Retry-After"] == "7"
        assert "serverTime" in await client.get_server_time()
    finally:
        await client.close_connection()


async def test_http_control_endpoint(exchange_sim: ExchangeSimulator) -> None:
    client = await binance_client(exchange_sim)
    try:
        session = client.session
        url = f"{exchange_sim.binance_rest_url}/__sim__/faults"
        async with session.post(url, json={"action": "rate_limit", "status": 429, "count": 1}) as resp:
            assert resp.status == 200
        with pytest.raises(BinanceAPIException) as err:
            await client.ping()
        assert err.value.status_code == 429
    finally:
        await client.close_connection()


async def test_signed_key_check_and_fees(exchange_sim: ExchangeSimulator) -> None:
    exchange_sim.add_api_key("binance", "readkey", "s3cret")
    exchange_sim.add_api_key("binance", "tradekey", "s3cret", permissions={"enableSpotAndMarginTrading": True})
    good = await binance_client(exchange_sim, "readkey", "s3cret")
    trader = await binance_client(exchange_sim, "tradekey", "s3cret")
    wrong = await binance_client(exchange_sim, "readkey", "not-the-secret")
    unknown = await binance_client(exchange_sim, "nobody", "s3cret")
    try:
        perms = await good.get_account_api_permissions()
        assert perms["enableReading"] is True and perms["enableSpotAndMarginTrading"] is False
        assert (await trader.get_account_api_permissions())["enableSpotAndMarginTrading"] is True
        fees = await good.get_trade_fee(symbol="BTCUSDT")
        assert fees == [{"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}]
        with pytest.raises(BinanceAPIException) as err:
            await wrong.get_account_api_permissions()
        assert err.value.code == -1022
        with pytest.raises(BinanceAPIException) as err:
            await unknown.get_account_api_permissions()
        assert err.value.code == -2015
        good.timestamp_offset = -120_000  # a skewed clock is refused with -1021
        with pytest.raises(BinanceAPIException) as err:
            await good.get_account_api_permissions()
        assert err.value.code == -1021
    finally:
        for c in (good, trader, wrong, unknown):
            await c.close_connection()


async def test_trading_endpoints_are_tripwires(exchange_sim_factory, tmp_path: Path) -> None:
    log = tmp_path / "tripwires.jsonl"
    sim = exchange_sim_factory(seed=1, tripwire_log=log)
    sim.add_api_key("binance", "k", "s")
    client = await binance_client(sim, "k", "s")
    try:
        with pytest.raises(BinanceAPIException):
            await client.create_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        with pytest.raises(BinanceAPIException):
            await client.create_test_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        with pytest.raises(BinanceAPIException):
            await client.withdraw(coin="BTC", address="x", amount="1")
    finally:
        await client.close_connection()
    paths = [h["path"] for h in sim.tripwire_hits]
    assert paths == ["/api/v3/order", "/api/v3/order/test", "/sapi/v1/capital/withdraw/apply"]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [h["path"] for h in lines] == paths and lines[0]["api_key"] == "k"
