"""Binance spot REST (public market data, key checks, tripwires) on aiohttp."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

from aiohttp import web

from . import fmt
from .binance_ws import ws_handler
from .candles import rolling_24h
from .control import EXCHANGE, SIM, RestAbort, control_handler, rest_handler
from .intervals import BINANCE_INTERVALS, next_open
from .rest_limits import Verdict, binance_limit_message, binance_rate_limits, binance_weight
from .security import SignatureError, binance_verify, is_tripwire
from .symbols import BINANCE

if TYPE_CHECKING:
    from .state import SimState


_LEGAL = "^[A-Z0-9-_.]{1,20}$"  # rest-api.md: symbol parameters; anything else is -1100
_LEGAL_SYMBOL = re.compile(_LEGAL)
_UINT = "^[0-9]{1,20}$"  # integer parameters (limit, startTime, endTime): "-1" or "None" is -1100
_LEGAL_UINT = re.compile(_UINT)


def error(code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status, headers=headers)


@web.middleware
async def binance_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    sim: SimState = request.app[SIM]  # type: ignore[assignment]
    public_ws = request.path == "/ws" or request.path.startswith(("/ws/", "/stream"))  # not /ws-api/v3
    if (request.path.startswith("/__sim__/") or public_ws) and _routed(request):
        return await handler(request)
    if is_tripwire(BINANCE, request.method, request.path, routed=_routed(request)):
        return await _tripwire(sim, request)
    forced = sim.take_rate_limit(BINANCE)
    verdict = sim.binance_weights.admit(binance_weight(request.path, request.query), int(time.time() * 1000))
    headers = {"X-MBX-USED-WEIGHT-1M": str(verdict.used)}
    if forced is not None:
        verdict = Verdict(forced[0], verdict.used, forced[1])
    if verdict.status != 200:
        headers["Retry-After"] = str(verdict.retry_after_s)
        return sim.rest_logged(
            BINANCE, request, error(-1003, binance_limit_message(sim.limits.binance, verdict), verdict.status, headers)
        )
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = error(-1, "Not found.", 404)
    except (ValueError, KeyError) as exc:
        response = error(-1100, f"Illegal characters found in a parameter. ({exc})")
    response.headers.update(headers)
    return sim.rest_logged(BINANCE, request, response)


def _routed(request: web.Request) -> bool:
    """A route serves this exact path and method (aiohttp matches case-sensitively)."""
    return getattr(request.match_info, "http_exception", None) is None


async def _tripwire(sim: SimState, request: web.Request) -> web.Response:
    body = await request.text()
    sim.record_tripwire(BINANCE, request, body, request.headers.get("X-MBX-APIKEY", ""))
    return error(-2015, "Simulator tripwire: trading endpoints are disabled (paper trading only).", 403)


def _number(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not _LEGAL_UINT.match(raw):
        raise RestAbort(error(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{_UINT}'."))
    return int(raw)


def _limit(request: web.Request, default: int, maximum: int, *, truncates: bool = False) -> int:
    """``limit`` as Binance takes it: digits only (-1100); 0, or over the maximum where the docs
    do not say it is truncated, is -1130 [unknown: stricter choice]; depth truncates at 5000."""
    limit = _number(request, "limit")
    if limit is None:
        return default
    if limit == 0 or (limit > maximum and not truncates):
        raise RestAbort(error(-1130, "Data sent for parameter 'limit' is not valid."))
    return min(limit, maximum)


def _market(sim: SimState, request: web.Request, param: str = "symbol"):  # type: ignore[no-untyped-def]
    symbol = request.query.get(param, "")
    if not symbol:
        raise RestAbort(error(-1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."))
    if not _LEGAL_SYMBOL.match(symbol):
        raise RestAbort(error(-1100, f"Illegal characters found in parameter '{param}'; legal range is '{_LEGAL}'."))
    market = sim.markets.get((BINANCE, symbol))
    if market is None:
        raise RestAbort(error(-1121, "Invalid symbol."))
    return market


async def ping(sim: SimState, request: web.Request) -> web.Response:
    return web.json_response({})


async def server_time(sim: SimState, request: web.Request) -> web.Response:
    return web.json_response({"serverTime": sim.clock.now_ms()})


async def exchange_info(sim: SimState, request: web.Request) -> web.Response:
    wanted = _symbol_list(request)
    names = [s for s in sim.specs if wanted is None or s in wanted]
    if wanted is not None and len(names) != len(wanted):
        return error(-1121, "Invalid symbol.")
    symbols = [fmt.binance_symbol_info(sim.markets[(BINANCE, s)]) for s in names]
    return web.json_response(
        {
            "timezone": "UTC",
            "serverTime": sim.clock.now_ms(),
            "rateLimits": binance_rate_limits(sim.limits.binance),
            "exchangeFilters": [],
            "symbols": symbols,
        }
    )


def _symbol_list(request: web.Request) -> list[str] | None:
    if "symbol" in request.query:
        return [request.query["symbol"]]
    if "symbols" in request.query:
        return list(json.loads(request.query["symbols"]))
    return None


async def klines(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    interval = request.query.get("interval", "")
    if not interval:
        return error(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
    if interval not in BINANCE_INTERVALS:
        return error(-1120, "Invalid interval.")
    limit = _limit(request, 500, 1000)
    start, end = _number(request, "startTime"), _number(request, "endTime")
    rows = sim.books[(BINANCE, market.spec.symbol)].klines(
        interval,
        start_ms=start,
        end_ms=end,
        limit=limit,
        now_ms=sim.booked_ms,  # candles as booked so far: a closed one is final
    )
    return web.json_response([fmt.binance_kline_row(market, r, next_open(r[0], interval) - r[0]) for r in rows])


async def ticker_24hr(sim: SimState, request: web.Request) -> web.Response:
    wanted = _symbol_list(request)
    names = list(sim.specs) if wanted is None else wanted
    now = sim.clock.now_ms()
    out = []
    for name in names:
        market = sim.markets.get((BINANCE, name))
        if market is None:
            return error(-1121, "Invalid symbol.")
        stats = rolling_24h(sim.books[(BINANCE, name)], now)
        out.append(fmt.binance_ticker_rest(market, stats, now, mini=request.query.get("type") == "MINI"))
    return web.json_response(out[0] if "symbol" in request.query else out)


async def depth(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    limit = _limit(request, 100, 5000, truncates=True)
    bids, asks = market.book(limit)
    return web.json_response(
        {
            "lastUpdateId": market.book_version,
            "bids": fmt.binance_levels(market, bids),
            "asks": fmt.binance_levels(market, asks),
        }
    )


async def trades(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    limit = _limit(request, 500, 1000)
    return web.json_response([fmt.binance_trade_rest(market, t) for t in list(market.recent)[-limit:]])


async def ticker_price(sim: SimState, request: web.Request) -> web.Response:
    wanted = _symbol_list(request) or list(sim.specs)
    out = []
    for name in wanted:
        market = sim.markets.get((BINANCE, name))
        if market is None:
            return error(-1121, "Invalid symbol.")
        out.append({"symbol": name, "price": fmt.bn_price(market, market.last_price)})
    return web.json_response(out[0] if "symbol" in request.query else out)


async def book_ticker(sim: SimState, request: web.Request) -> web.Response:
    wanted = _symbol_list(request) or list(sim.specs)
    out = []
    for name in wanted:
        market = sim.markets.get((BINANCE, name))
        if market is None:
            return error(-1121, "Invalid symbol.")
        out.append(fmt.binance_book_ticker(market))
    return web.json_response(out[0] if "symbol" in request.query else out)


async def avg_price(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    recent = [t for t in market.recent if t.ts > sim.clock.now_ms() - 300_000] or list(market.recent)[-1:]
    qty = sum(t.qty for t in recent)
    units = sum(t.price * t.qty for t in recent) // qty if qty else market.last_price
    return web.json_response({"mins": 5, "price": fmt.bn_price(market, units), "closeTime": sim.clock.now_ms()})


async def agg_trades(sim: SimState, request: web.Request) -> web.Response:
    market = _market(sim, request)
    limit = _limit(request, 500, 1000)
    rows = [
        {
            "a": t.trade_id,
            "p": fmt.bn_price(market, t.price),
            "q": fmt.bn_qty(market, t.qty),
            "f": t.trade_id,
            "l": t.trade_id,
            "T": t.ts,
            "m": t.buyer_is_maker,
            "M": True,
        }
        for t in list(market.recent)[-limit:]
    ]
    return web.json_response(rows)


async def system_status(sim: SimState, request: web.Request) -> web.Response:
    return web.json_response({"status": 0, "msg": "normal"})


def _signed(request: web.Request, sim: SimState, body: str = ""):  # type: ignore[no-untyped-def]
    raw_query = request.raw_path.partition("?")[2]
    try:
        return binance_verify(
            sim.keys,
            api_key=request.headers.get("X-MBX-APIKEY", ""),
            raw_query=raw_query,
            body=body,
            now_ms=sim.clock.now_ms(),
        )
    except SignatureError as exc:
        raise RestAbort(error(int(exc.code), exc.msg, exc.status)) from None


async def api_restrictions(sim: SimState, request: web.Request) -> web.Response:
    record = _signed(request, sim)
    perms = dict(record.permissions)
    return web.json_response({"ipRestrict": perms.pop("ipRestrict", False), "createTime": record.created_ms, **perms})


async def trade_fee(sim: SimState, request: web.Request) -> web.Response:
    _signed(request, sim)
    names = [request.query["symbol"]] if "symbol" in request.query else list(sim.specs)
    return web.json_response([{"symbol": n, "makerCommission": "0.001", "takerCommission": "0.001"} for n in names])


def build_binance_app(sim: SimState) -> web.Application:
    app = web.Application(middlewares=[binance_middleware])
    app[SIM] = sim
    app[EXCHANGE] = BINANCE
    r = app.router
    for path, fn in (
        ("/api/v3/ping", ping),
        ("/api/v3/time", server_time),
        ("/api/v3/exchangeInfo", exchange_info),
        ("/api/v3/klines", klines),
        ("/api/v3/uiKlines", klines),
        ("/api/v3/ticker/24hr", ticker_24hr),
        ("/api/v3/depth", depth),
        ("/api/v3/trades", trades),
        ("/api/v3/ticker/price", ticker_price),
        ("/api/v3/ticker/bookTicker", book_ticker),
        ("/api/v3/avgPrice", avg_price),
        ("/api/v3/aggTrades", agg_trades),
        ("/sapi/v1/system/status", system_status),
        ("/sapi/v1/account/apiRestrictions", api_restrictions),
        ("/sapi/v1/asset/tradeFee", trade_fee),
    ):
        r.add_get(path, rest_handler(fn))
    r.add_get("/ws", ws_handler)
    r.add_get("/ws/{streams:.*}", ws_handler)
    r.add_get("/stream", ws_handler)
    r.add_post("/__sim__/faults", control_handler)
    return app
