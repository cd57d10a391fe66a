"""KuCoin spot REST (public market data, key checks, tripwires) on aiohttp, at root paths."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

from . import kc_fmt
from .candles import rolling_24h
from .control import EXCHANGE, SIM, RestAbort, control_handler, rest_handler
from .depth import DIFF_DEPTH
from .intervals import KUCOIN_TYPES, bucket_count
from .kucoin_ws import ws_handler
from .security import SignatureError, is_tripwire, kucoin_verify
from .symbols import KUCOIN

if TYPE_CHECKING:
    from .market import Market
    from .state import SimState


def ok(data: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": "200000", "data": data}, headers=headers)


def error(code: str, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status, headers=headers)


@web.middleware
async def kucoin_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    sim: SimState = request.app[SIM]  # type: ignore[assignment]
    routed = getattr(request.match_info, "http_exception", None) is None  # exact path and method
    if (request.path.startswith("/__sim__/") or request.path == "/") and routed:
        return await handler(request)
    if is_tripwire(KUCOIN, request.method, request.path, routed=routed):
        body = await request.text()
        sim.record_tripwire(KUCOIN, request, body, request.headers.get("KC-API-KEY", ""))
        return error("400007", "Simulator tripwire: trading endpoints are disabled (paper trading only).", 403)
    # Quotas run on the wall clock, whatever the simulated clock's speed.
    now = int(time.time() * 1000)
    pool, within = sim.kucoin_pools.admit(request.path, now)
    reset_ms = pool.ms_left(now)
    headers = {
        "gw-ratelimit-limit": str(pool.limit),
        "gw-ratelimit-remaining": str(max(pool.limit - pool.used, 0)),
        "gw-ratelimit-reset": str(reset_ms),
    }
    forced = sim.take_rate_limit(KUCOIN)
    if forced is not None or not within:
        status, retry = forced or (429, max(1, -(-reset_ms // 1000)))
        # A forced limit behaves as an exhausted pool that resets when the fault says. KuCoin
        # documents no Retry-After: the wait is gw-ratelimit-reset.
        reset = str(retry * 1000) if forced else str(reset_ms)
        headers.update({"gw-ratelimit-remaining": "0", "gw-ratelimit-reset": reset})
        return sim.rest_logged(KUCOIN, request, error("429000", "Too Many Requests", status, headers))
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = error("404000", "Url Not Found", 404)
    except (ValueError, KeyError) as exc:
        response = error("400100", f"Invalid Parameter. ({exc})")
    response.headers.update(headers)
    return sim.rest_logged(KUCOIN, request, response)


def _market(sim: SimState, request: web.Request):  # type: ignore[no-untyped-def]
    symbol = request.query.get("symbol", "")
    if not symbol:
        raise RestAbort(error("400100", "symbol is required"))
    market = sim.kucoin_market(symbol)
    if market is None:
        raise RestAbort(error("900001", "symbol not exists", 200))
    return market


def _seconds(request: web.Request, name: str) -> int:
    """startAt/endAt: whole seconds, 0 when absent (the spec's default). Anything else, a
    negative number included, is 400100 [unknown: stricter choice]."""
    raw = request.query.get(name, "0")
    if not (raw.isascii() and raw.isdigit()):
        raise RestAbort(error("400100", f"{name} is invalid"))
    return int(raw)


async def bullet_public(sim: SimState, request: web.Request) -> web.Response:
    token = sim.kucoin_issue_token()
    server = {
        "endpoint": f"ws://127.0.0.1:{sim.kucoin_port}/",
        "encrypt": None,
        "protocol": "websocket",
        "pingInterval": sim.limits.kucoin.ping_interval_ms,
        "pingTimeout": sim.limits.kucoin.ping_timeout_ms,
    }
    return ok({"token": token, "instanceServers": [server]})


async def timestamp(sim: SimState, request: web.Request) -> web.Response:
    return ok(sim.clock.now_ms())


async def symbols(sim: SimState, request: web.Request) -> web.Response:
    return ok([kc_fmt.symbol_info(sim.markets[(KUCOIN, s)]) for s in sim.specs])


async def candles(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    interval = KUCOIN_TYPES.get(request.query.get("type", ""))
    if interval is None:
        return error("400100", "Unsupported type")
    now = sim.booked_ms  # candles as booked so far: a closed one is final
    end = _seconds(request, "endAt") * 1000 or now
    start = _seconds(request, "startAt") * 1000
    count = bucket_count(interval, start, min(end, now)) if start else 1500
    book = sim.books[(KUCOIN, market.spec.symbol)]
    if start and count <= 1500:
        rows = book.klines(interval, start_ms=start, end_ms=end, limit=1500, now_ms=now)
    else:
        rows = book.klines(interval, start_ms=None, end_ms=end, limit=1500, now_ms=now)
        rows = [r for r in rows if r[0] >= start]
    return ok([kc_fmt.candle_row(market, r) for r in reversed(rows)])  # newest first, as KuCoin does


async def stats(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    now = sim.clock.now_ms()
    return ok(kc_fmt.stats(market, rolling_24h(sim.books[(KUCOIN, market.spec.symbol)], now), now))


async def all_tickers(sim: SimState, request: web.Request) -> web.Response:
    now = sim.clock.now_ms()
    tickers = []
    for symbol in sim.specs:
        market = sim.markets[(KUCOIN, symbol)]
        row = kc_fmt.stats(market, rolling_24h(sim.books[(KUCOIN, symbol)], now), now)
        bids, asks = market.book(1)
        row.pop("time")
        row.update(
            symbolName=row["symbol"],
            bestBidSize=kc_fmt.qty(market, bids[0][1]) if bids else None,
            bestAskSize=kc_fmt.qty(market, asks[0][1]) if asks else None,
        )
        tickers.append(row)
    return ok({"time": now, "ticker": tickers})


async def level1(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    return ok(kc_fmt.level1(market, sim.clock.now_ms()))


async def level2(sim: SimState, request: web.Request) -> web.Response:
    return _book(sim, _market(sim, request), int(request.match_info["depth"]))


async def full_book(sim: SimState, request: web.Request) -> web.Response:
    """GET /api/v3/market/orderbook/level2: the whole book (signed, General permission)."""
    _signed(sim, request)
    return _book(sim, _market(sim, request), DIFF_DEPTH)


def _book(sim: SimState, market: Market, depth: int) -> web.Response:
    bids, asks = market.book(depth)
    return ok(
        {
            "time": sim.clock.now_ms(),
            "sequence": str(market.book_version),
            "bids": kc_fmt.levels(market, bids),
            "asks": kc_fmt.levels(market, asks),
        }
    )


async def histories(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    return ok([kc_fmt.history_trade(market, t) for t in reversed(list(market.recent)[-100:])])


async def server_status(sim: SimState, request: web.Request) -> web.Response:
    return ok({"status": "open", "msg": ""})


async def currencies(sim: SimState, request: web.Request) -> web.Response:
    names = sorted({c for s in sim.specs.values() for c in (s.base, s.quote)})
    return ok(
        [
            {"currency": c, "name": c, "fullName": c, "precision": 8, "confirms": None, "contractAddress": None}
            | {"isMarginEnabled": True, "isDebitEnabled": True, "chains": []}
            for c in names
        ]
    )


def _signed(sim: SimState, request: web.Request, body: str = ""):  # type: ignore[no-untyped-def]
    try:
        return kucoin_verify(
            sim.keys,
            headers=dict(request.headers),
            method=request.method,
            path_query=request.raw_path,
            body=body,
            now_ms=sim.clock.now_ms(),
        )
    except SignatureError as exc:
        raise RestAbort(error(str(exc.code), exc.msg, exc.status)) from None


async def api_key_info(sim: SimState, request: web.Request) -> web.Response:
    record = _signed(sim, request)
    version = int(request.headers.get("KC-API-KEY-VERSION", "1") or 1)
    return ok(
        {
            "remark": "simulator",
            "apiKey": record.key,
            "apiVersion": version,
            "permission": record.permissions,
            "ipWhitelist": "",
            "createdAt": record.created_ms,
            "uid": 100000001,
            "isMaster": True,
        }
    )


async def base_fee(sim: SimState, request: web.Request) -> web.Response:
    _signed(sim, request)
    return ok({"takerFeeRate": "0.001", "makerFeeRate": "0.001"})


async def trade_fees(sim: SimState, request: web.Request) -> web.Response:
    _signed(sim, request)
    names = [s for s in request.query.get("symbols", "").split(",") if s]
    return ok([{"symbol": s, "takerFeeRate": "0.001", "makerFeeRate": "0.001"} for s in names])


def build_kucoin_app(sim: SimState) -> web.Application:
    app = web.Application(middlewares=[kucoin_middleware])
    app[SIM] = sim
    app[EXCHANGE] = KUCOIN
    r = app.router
    r.add_post("/api/v1/bullet-public", rest_handler(bullet_public))
    for path, fn in (
        ("/api/v1/timestamp", timestamp),
        ("/api/v1/status", server_status),
        ("/api/v3/currencies", currencies),
        ("/api/v2/symbols", symbols),
        ("/api/v1/symbols", symbols),
        ("/api/v1/market/candles", candles),
        ("/api/v1/market/stats", stats),
        ("/api/v1/market/allTickers", all_tickers),
        ("/api/v1/market/orderbook/level1", level1),
        ("/api/v1/market/orderbook/level2_{depth:20|100}", level2),
        ("/api/v3/market/orderbook/level2", full_book),
        ("/api/v1/market/histories", histories),
        ("/api/v1/user/api-key", api_key_info),
        ("/api/v1/base-fee", base_fee),
        ("/api/v1/trade-fees", trade_fees),
    ):
        r.add_get(path, rest_handler(fn))
    r.add_get("/", ws_handler)
    r.add_post("/__sim__/faults", control_handler)
    return app
