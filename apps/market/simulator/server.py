"""ExchangeSimulator: Binance + KuCoin protocol servers on loopback, driven by one engine.

Runs on its own event loop thread (``start_in_thread``) or inside a running loop
(``await start()``). All market state lives on the loop thread (``state.SimState``);
cross-thread calls hop onto it through ``call``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from apps.market.events import BookSnapshot, KlineEvent, TradeEvent
from apps.safety.endpoints import exchange_endpoint_forget

from .binance_rest import build_binance_app
from .binance_ws import BinancePublisher
from .control import FAULTS
from .faults import Faults
from .intervals import KUCOIN_TYPES, align, next_open, shift
from .kucoin_rest import build_kucoin_app
from .kucoin_ws import KucoinPublisher
from .limits import Limits
from .market import Market, ScriptedTrade
from .state import RestHit, SimState
from .symbols import BINANCE, KUCOIN, units_of

logger = logging.getLogger(__name__)
TICK_S = 0.1


class ExchangeSimulator(SimState):
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
        super().__init__(
            seed=seed,
            symbols=symbols,
            replay=replay,
            replay_symbol=replay_symbol,
            clock_speed=clock_speed,
            start_time_ms=start_time_ms,
            trade_rate_hz=trade_rate_hz,
            tripwire_log=tripwire_log,
            host=host,
            limits=limits,
        )
        self._requested_ports = (binance_port, kucoin_port)
        self.faults = Faults(self)
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._engine: asyncio.Task[None] | None = None
        self.max_batch = int(trade_rate_hz * 5) + 100
        self.engine_beat = time.monotonic()  # the engine's heartbeat (engine_watch)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        for app, port, attr in (
            (build_binance_app(self), self._requested_ports[0], "binance_port"),
            (build_kucoin_app(self), self._requested_ports[1], "kucoin_port"),
        ):
            app[FAULTS] = self.faults  # POST /__sim__/faults on either port
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
                self.kucoin_publisher.level2(market, now)
                if tick % 20 == 0:
                    self.kucoin_publisher.snapshots(market, now)
        if bn_live:
            self.binance_publisher.tickers(now, tick % 10 == 0)
            self.binance_hub.fresh.clear()
        if kc_live:
            self.kucoin_hub.fresh.clear()

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

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def rest_hits(self, exchange: str | None = None) -> list[RestHit]:
        return self.call(lambda: [h for h in self.rest_log if exchange is None or h.exchange == exchange])

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
        market = self.market(exchange, symbol)
        book = self.books[(exchange, market.spec.symbol)]

        def collect() -> list[KlineEvent]:
            now = self.booked_ms
            last = shift(align(now, interval), interval, -1)  # the last candle that has closed
            last = last if end_ms is None else min(last, end_ms)
            first = shift(align(last, interval), interval, -499) if start_ms is None else align(start_ms, interval)
            first = first if start_ms is None or first == start_ms else next_open(first, interval)
            first = max(first, align(market.listed_ms, interval))
            out: list[KlineEvent] = []
            while first <= last:
                rows = book.klines(interval, start_ms=first, end_ms=last, limit=1000, now_ms=now)
                out.extend(_kline_event(market, interval, r, now) for r in rows if next_open(r[0], interval) <= now)
                first = shift(first, interval, 1000)
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
