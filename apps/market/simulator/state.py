"""The state both protocol servers share: clock, markets and their candles, keys, hubs, quotas.

The REST and WebSocket modules read and change it; ``server.ExchangeSimulator`` builds it and
adds the lifecycle, the engine and the test-facing API on top. Nothing here imports a
protocol module, so the protocol modules sit above it and the server above them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .candles import KlineBook
from .hub import Hub
from .limits import ConnectionGate, Limits
from .market import Market, ScriptedTrade
from .replay import Replay, load_replay
from .rest_limits import BinanceWeightGuard, KucoinPools
from .security import KeyStore, TripwireLog
from .symbols import BINANCE, EXCHANGES, KUCOIN, SymbolSpec, generic_spec, resolve_specs, units_of

logger = logging.getLogger(__name__)
T = TypeVar("T")
REST_LOG_SIZE = 5000


class SimClock:
    """Simulated wall clock: starts at ``start_ms`` (default: now) and runs ``speed`` times faster."""

    def __init__(self, speed: float = 1.0, start_ms: int | None = None) -> None:
        self.speed = speed
        self._wall0 = time.time()
        self._sim0 = int(self._wall0 * 1000) if start_ms is None else start_ms
        self.start_ms = self._sim0

    def now_ms(self) -> int:
        return self._sim0 + int((time.time() - self._wall0) * 1000 * self.speed)


@dataclasses.dataclass(frozen=True, slots=True)
class RestHit:
    """One REST request as the simulator answered it (tests check pacing and back-off)."""

    exchange: str
    wall_s: float  # time.monotonic() when answered
    method: str
    path: str
    status: int
    query: str = ""  # the raw query string (tests check what a client sent)


class SimState:
    def __init__(
        self,
        *,
        seed: int,
        symbols: Iterable[str] | None,
        replay: str | Path | None,
        replay_symbol: str | None,
        clock_speed: float,
        start_time_ms: int | None,
        trade_rate_hz: float,
        tripwire_log: str | Path | None,
        host: str,
        limits: Limits | None,
    ) -> None:
        self.seed, self.host = seed, host
        self.clock = SimClock(clock_speed, start_time_ms)
        self.specs: dict[str, SymbolSpec] = resolve_specs(list(symbols) if symbols else None)
        self.binance_port = self.kucoin_port = 0
        start = self.clock.start_ms  # not now_ms(): a fast clock has moved on already
        tapes = load_replay(Path(replay), symbol=replay_symbol) if replay else {}
        for (_, symbol), (tape, _) in tapes.items():
            first_price = float(tape[0][1])
            spec = self.specs.get(symbol) or generic_spec(symbol, first_price)
            self.specs[symbol] = dataclasses.replace(spec, price=first_price)
        self.markets: dict[tuple[str, str], Market] = {}
        self.books: dict[tuple[str, str], KlineBook] = {}
        for exchange in EXCHANGES:
            for symbol, spec in self.specs.items():
                market = Market(exchange, spec, seed, start, trade_rate_hz, clock_speed)
                self.markets[(exchange, symbol)] = market
                self.books[(exchange, symbol)] = KlineBook(market)
        self._load_tapes(tapes, start)
        self.keys = KeyStore()
        self.tripwires = TripwireLog(tripwire_log)
        self.binance_hub, self.kucoin_hub = Hub(), Hub()
        self._tokens: set[str] = set()
        self.limits = limits or Limits()  # the exchanges' own values unless a test lowers one
        self.binance_weights = BinanceWeightGuard(self.limits.binance)
        self.kucoin_pools = KucoinPools(self.limits.kucoin)
        bn, kc = self.limits.binance, self.limits.kucoin
        self.binance_gate = ConnectionGate(bn.connection_attempts, bn.connection_window_s)
        self.kucoin_gate = ConnectionGate(kc.connection_attempts, kc.connection_window_s, kc.connections)
        # Forced REST answers (status, Retry-After s) queued by a fault, per exchange.
        self.forced_rate_limits: dict[str, list[tuple[int, int]]] = {BINANCE: [], KUCOIN: []}
        # Book diffs (Binance depthUpdate, KuCoin trade.l2update) a fault asked to lose, per
        # (exchange, symbol): the book moves on, so the next diff sent shows the gap.
        self.dropped_diffs: dict[tuple[str, str], int] = {}
        self.rest_log: deque[RestHit] = deque(maxlen=REST_LOG_SIZE)
        # Candle bookkeeping is complete up to here (the last engine step): REST klines and
        # the ground truth are served as of this instant, so a "closed" candle is final.
        self.booked_ms = start
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def _load_tapes(self, tapes: dict[tuple[str | None, str], Replay], start: int) -> None:
        for (exchange, symbol), (tape, align_ms) in tapes.items():
            shift = -((tape[0][0] - start) // align_ms) * align_ms  # whole candles: boundaries stay boundaries
            for ex in [exchange] if exchange else list(EXCHANGES):
                market = self.markets[(ex, symbol)]
                market.script.extend(
                    ScriptedTrade(
                        ts + shift,
                        units_of(p, market.pd) // market.tick * market.tick or market.tick,
                        max(units_of(q, market.qd), 1),
                        side,
                    )
                    for ts, p, q, side in tape
                )

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the simulator's loop thread and return its result."""
        loop = self._loop
        if loop is None or not loop.is_running() or threading.get_ident() == self._loop_thread:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def wrapper() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(wrapper)
        return future.result(timeout)

    def take_rate_limit(self, exchange: str) -> tuple[int, int] | None:
        """The next forced (status, Retry-After) answer for this exchange's REST, if a fault queued one."""
        queue = self.forced_rate_limits[exchange]
        return queue.pop(0) if queue else None

    def take_dropped_diff(self, exchange: str, symbol: str) -> bool:
        """True when this book diff is to be lost (a fault queued it)."""
        left = self.dropped_diffs.get((exchange, symbol), 0)
        if left > 0:
            self.dropped_diffs[(exchange, symbol)] = left - 1
        return left > 0

    # -- KuCoin tokens -------------------------------------------------------------------
    def kucoin_issue_token(self) -> str:
        token = secrets.token_urlsafe(48)
        self._tokens.add(token)
        return token

    def kucoin_token_valid(self, token: str) -> bool:
        return token in self._tokens

    def kucoin_market(self, symbol: str) -> Market | None:
        if "-" not in symbol:
            return None
        return self.markets.get((KUCOIN, symbol.replace("-", "")))

    def market(self, exchange: str, symbol: str) -> Market:
        return self.markets[(exchange, symbol.replace("-", "").upper())]

    # -- REST bookkeeping ----------------------------------------------------------------
    def rest_logged(self, exchange: str, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        hit = RestHit(exchange, time.monotonic(), request.method, request.path, response.status, request.query_string)
        self.rest_log.append(hit)
        return response

    def record_tripwire(self, exchange: str, request: web.Request, body: str, api_key: str) -> None:
        hit = {
            "ts": int(time.time() * 1000),
            "exchange": exchange,
            "method": request.method,
            "path": request.path,
            "query": request.raw_path.partition("?")[2],
            "api_key": api_key,
            "body": body[:2000],
        }
        logger.error("TRIPWIRE: trading endpoint hit on the exchange simulator: %s", hit)
        self.tripwires.record(hit)

    @property
    def tripwire_hits(self) -> list[dict[str, Any]]:
        return list(self.tripwires.hits)
