"""ExchangeSimulator: Binance + KuCoin protocol servers on loopback, driven by one engine.

Runs on its own event loop thread (``start_in_thread``) or inside a running loop
(``await start()``). All market state lives on the loop thread; cross-thread calls hop
onto it through ``call``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from apps.market.events import BookSnapshot, KlineEvent, TradeEvent

from .binance_rest import build_binance_app
from .binance_ws import BinancePublisher
from .candles import BINANCE_INTERVALS, KUCOIN_TYPES, KlineBook
from .faults import Faults
from .hub import Hub
from .kucoin_rest import build_kucoin_app
from .kucoin_ws import KucoinPublisher
from .limits import ConnectionGate, Limits
from .market import Market, ScriptedTrade
from .replay import Replay, load_replay
from .rest_limits import BinanceWeightGuard, KucoinPools
from .security import KeyStore, TripwireLog
from .symbols import BINANCE, EXCHANGES, KUCOIN, SymbolSpec, generic_spec, resolve_specs, units_of

logger = logging.getLogger(__name__)
T = TypeVar("T")
TICK_S = 0.1
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


class ExchangeSimulator:
    def __init__(
        self,
        seed: int = 42,
        symbols: Iterable[str] | None = None,
        binance_port: int = 0,
        kucoin_port: int = 0,
        replay: str | Path | None = None,
        clock_speed: float = 1.0,
        tripwire_log: str | Path | None = None,
        trade_rate_hz: float = 20.0,
        *,
        start_time_ms: int | None = None,
        replay_symbol: str | None = None,
        host: str = "127.0.0.1",
        limits: Limits | None = None,
    ) -> None:
        self.seed, self.host = seed, host
        self.clock = SimClock(clock_speed, start_time_ms)
        self.specs: dict[str, SymbolSpec] = resolve_specs(list(symbols) if symbols else None)
        self._requested_ports = (binance_port, kucoin_port)
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
        self.faults = Faults(self)
        self._tokens: set[str] = set()
        self.limits = limits or Limits()  # the exchanges' own values unless a test lowers one
        self.binance_weights = BinanceWeightGuard(self.limits.binance)
        self.kucoin_pools = KucoinPools(self.limits.kucoin)
        bn, kc = self.limits.binance, self.limits.kucoin
        self.binance_gate = ConnectionGate(bn.connection_attempts, bn.connection_window_s)
        self.kucoin_gate = ConnectionGate(kc.connection_attempts, kc.connection_window_s, kc.connections)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._engine: asyncio.Task[None] | None = None
        self.max_batch = int(trade_rate_hz * 5) + 100
        self.rest_log: deque[RestHit] = deque(maxlen=REST_LOG_SIZE)
        # Candle bookkeeping is complete up to here (the last engine step): REST klines and
        # the ground truth are served as of this instant, so a "closed" candle is final.
        self.booked_ms = start
        self.engine_beat = time.monotonic()  # the engine's heartbeat (engine_watch)

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

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        for app, port, attr in (
            (build_binance_app(self), self._requested_ports[0], "binance_port"),
            (build_kucoin_app(self), self._requested_ports[1], "kucoin_port"),
        ):
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port, reuse_address=True)
            await site.start()
            self._runners.append(runner)
            setattr(self, attr, runner.addresses[0][1])
        self.binance_publisher, self.kucoin_publisher = BinancePublisher(self), KucoinPublisher(self)
        self._engine = self._loop.create_task(self._run_engine())
        logger.info("exchange simulator on binance=%s kucoin=%s", self.binance_port, self.kucoin_port)

    async def stop(self) -> None:
        if self._engine is not None:
            self._engine.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._engine
            self._engine = None
        for hub in (self.binance_hub, self.kucoin_hub):
            for conn in list(hub.conns):
                conn.abort()
                hub.remove(conn)
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        self._forget_endpoints()

    def _forget_endpoints(self) -> None:
        """Tell the process-wide transport guard these ports are no longer an exchange: the OS
        may hand them to any other server next."""
        from apps.safety.endpoints import exchange_endpoint_forget

        for url in (self.binance_rest_url, self.kucoin_rest_url):
            exchange_endpoint_forget(url=url)

    def start_in_thread(self, timeout: float = 10.0) -> ExchangeSimulator:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # report bind errors to the caller
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(None)
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="exchange-sim", daemon=True)
        self._thread.start()
        ready.result(timeout)
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def engine_watch(self, *, silent_s: float) -> str | None:
        """Restart the engine when its task ended or its heartbeat is older than ``silent_s``
        (any thread; embedded mode's feed watchdog calls it). Returns why it restarted."""
        loop, engine = self._loop, self._engine
        if loop is None or loop.is_closed() or engine is None:
            return None
        silent = time.monotonic() - self.engine_beat
        reason = "engine task ended" if engine.done() else f"engine silent {silent:.1f}s" if silent > silent_s else None
        if reason is None:
            return None
        logger.error("exchange simulator %s: restarting its engine", reason)

        def restart() -> None:
            if self._engine is engine:
                engine.cancel()
                self.engine_beat = time.monotonic()
                self._engine = loop.create_task(self._run_engine())

        loop.call_soon_threadsafe(restart)
        return reason

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the simulator's loop thread and return its result."""
        loop = self._loop
        if loop is None or not loop.is_running() or threading.get_ident() == getattr(self, "_loop_thread", None):
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def wrapper() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(wrapper)
        return future.result(timeout)

    # -- engine --------------------------------------------------------------------------
    async def _run_engine(self) -> None:
        tick = 0
        while True:
            started = self.engine_beat = time.monotonic()
            try:
                self.step(tick)
            except Exception:  # the engine must survive a bad frame or a client bug
                logger.exception("simulator engine step failed")
            tick += 1
            await asyncio.sleep(max(0.0, TICK_S - (time.monotonic() - started)))

    def step(self, tick: int) -> None:
        now = self.clock.now_ms()
        self.booked_ms = now  # every trade stamped <= now is booked below, before any kline goes out
        bn_live, kc_live = not self.binance_hub.stalled(), not self.kucoin_hub.stalled()
        for (exchange, _), market in self.markets.items():
            trades = market.generate(now, self.max_batch)
            if trades:
                market.book_version += 1
            if exchange == BINANCE and bn_live:
                self.binance_publisher.trades(market, trades, now)
                if trades:
                    self.binance_publisher.book(market, now, tick % 10 == 0)
                self.binance_publisher.klines(market, now, tick % 20 == 0)
                self.binance_publisher.depth_diffs(market, now, tick % 10 == 0)
            elif exchange == KUCOIN and kc_live:
                self.kucoin_publisher.trades(market, trades, now)
                self.kucoin_publisher.book(market, now, bool(trades))
                self.kucoin_publisher.candles(market, now, bool(trades))
        if bn_live:
            self.binance_publisher.tickers(now, tick % 10 == 0)
            self.binance_hub.fresh.clear()
        if kc_live:
            self.kucoin_hub.fresh.clear()

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

    # -- public API ----------------------------------------------------------------------
    @property
    def binance_rest_url(self) -> str:
        return f"http://{self.host}:{self.binance_port}"

    @property
    def binance_ws_url(self) -> str:
        return f"ws://{self.host}:{self.binance_port}/"

    @property
    def kucoin_rest_url(self) -> str:
        return f"http://{self.host}:{self.kucoin_port}"

    @property
    def tripwire_hits(self) -> list[dict[str, Any]]:
        return list(self.tripwires.hits)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def rest_logged(self, exchange: str, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        self.rest_log.append(RestHit(exchange, time.monotonic(), request.method, request.path, response.status))
        return response

    def rest_hits(self, exchange: str | None = None) -> list[RestHit]:
        return self.call(lambda: [h for h in self.rest_log if exchange is None or h.exchange == exchange])

    def market(self, exchange: str, symbol: str) -> Market:
        return self.markets[(exchange, symbol.replace("-", "").upper())]

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

    def add_api_key(
        self, exchange: str, key: str, secret: str, passphrase: str | None = None, permissions: object = None
    ) -> None:
        """Binance: permissions is a dict of apiRestrictions flags over read-only defaults.
        KuCoin: a permission string or list ("General" = read-only, the default)."""
        self.keys.add(exchange, key, secret, passphrase, permissions)

    def set_price_path(self, exchange: str, symbol: str, prices: Iterable[Decimal | str | int]) -> None:
        """The next trades print at exactly these prices (one trade each), then the model resumes from the last."""
        market = self.market(exchange, symbol)
        items = [ScriptedTrade(None, units_of(Decimal(str(p)), market.pd), None, None) for p in prices]
        self.call(lambda: market.script.extend(items))

    def closed_klines(
        self, exchange: str, symbol: str, interval: str, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[KlineEvent]:
        """Ground truth: closed candles with start_ms <= open_time <= end_ms, Decimal OHLCV."""
        interval = KUCOIN_TYPES.get(interval, interval)
        length = BINANCE_INTERVALS[interval][0]
        market = self.market(exchange, symbol)
        book = self.books[(exchange, market.spec.symbol)]

        def collect() -> list[KlineEvent]:
            now = self.booked_ms
            last = min(end_ms if end_ms is not None else now, now - length)
            start = start_ms if start_ms is not None else last - 499 * length
            out: list[KlineEvent] = []
            while start <= last:
                rows = book.klines(interval, start_ms=start, end_ms=last, limit=1000, now_ms=now)
                out.extend(_kline_event(market, interval, r, now) for r in rows if r[0] + length <= now)
                start += 1000 * length
            return out

        return self.call(collect)

    def book(self, exchange: str, symbol: str, depth: int = 20) -> BookSnapshot:
        market = self.market(exchange, symbol)

        def snap() -> BookSnapshot:
            bids, asks = market.book(depth)
            conv = lambda rows: tuple((_dec(p, market.pd), _dec(q, market.qd)) for p, q in rows)  # noqa: E731
            return BookSnapshot(
                exchange, market.spec.symbol, conv(bids), conv(asks), self.clock.now_ms(), market.book_version
            )

        return self.call(snap)

    def recent_trades(self, exchange: str, symbol: str) -> list[TradeEvent]:
        market = self.market(exchange, symbol)
        trades = self.call(lambda: list(market.recent))
        return [
            TradeEvent(
                exchange,
                market.spec.symbol,
                str(t.trade_id),
                _dec(t.price, market.pd),
                _dec(t.qty, market.qd),
                t.taker_side,
                t.ts,
            )
            for t in trades
        ]


def _dec(units: int, decimals: int) -> Decimal:
    return Decimal(units).scaleb(-decimals)


def _kline_event(market: Market, interval: str, r: list[int], now: int) -> KlineEvent:
    pd, qd = market.pd, market.qd
    return KlineEvent(
        market.exchange,
        market.spec.symbol,
        interval,
        r[0],
        _dec(r[1], pd),
        _dec(r[2], pd),
        _dec(r[3], pd),
        _dec(r[4], pd),
        _dec(r[5], qd),
        _dec(r[6], pd + qd),
        True,
        now,
    )
