"""Exchange adapters on the real client libraries (built only through apps.safety.factory).

One interface, two implementations. ``stream()`` runs one connection until it ends or goes
quiet and returns/raises; the runner owns reconnection, back-off and gap backfill, so both
libraries' own reconnect loops are bypassed (they wait 1-60 s, lose python-binance's queue on
overflow, and kucoin-python never stops on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from apps.market.events import KlineEvent, TickerEvent
from apps.market.feeds import binance_parse, kucoin_parse
from apps.market.feeds.book_sync import BookSync
from apps.market.feeds.budget import QuotaBudget, WindowPacer
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.instruments import binance_instruments, kucoin_instruments
from apps.market.feeds.local_book import DepthDiff, DepthSnapshot
from apps.market.feeds.pacing import (
    KucoinLink,
    RateLimited,
    RestGate,
    first_to_end,
    kucoin_link_trouble,
    kucoin_subscribe,
)
from apps.market.feeds.subscriptions import FeedLimits, binance_plan, kucoin_plan
from apps.market.feeds.symbols import KUCOIN_TYPES, TIMEFRAME_MS, TIMEFRAMES, to_kucoin

logger = logging.getLogger("apps.market.feeds")

OnMessage = Callable[[Any], None]  # an event, a FeedControl, or None

# Book snapshots (docs/OPERATIONS.md, "Order books"). Binance: /api/v3/depth limit 1000, weight
# 50 (rest-api.md: 1-100 -> 5, <=500 -> 25, <=1000 -> 50, <=5000 -> 250); refreshed when a
# side has under 100 verified levels. KuCoin: the full book (/api/v3/market/orderbook/level2)
# needs an API key, so the public level2_100 (weight 2, Public pool); refreshed under 50.
BINANCE_BOOK_LIMIT, BINANCE_BOOK_WEIGHT, BINANCE_MIN_VERIFIED = 1000, 50, 100
KUCOIN_BOOK_LIMIT, KUCOIN_BOOK_WEIGHT, KUCOIN_MIN_VERIFIED = 100, 2, 50
REFRESH_SHARE = 0.5  # a refresh goes only while the window's count leaves half the limit free


class StreamEnded(Exception):
    """The connection ended (closed, server shutdown, dead read loop, stall)."""


class ExchangeAdapter(Protocol):
    exchange: str
    used_weight: int | None

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def stream(self, symbols: list[str], on_event: OnMessage, *, stall_s: float) -> None: ...
    async def klines(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[KlineEvent]: ...
    async def server_time(self) -> int: ...
    async def instruments(self) -> list[dict[str, Any]]: ...
    async def tickers(self, symbols: list[str]) -> list[TickerEvent]: ...


# Binance -------------------------------------------------------------------------------


class BinanceAdapter:
    exchange = "binance"

    def __init__(self, *, rest_url: str, ws_url: str, rest_rps: float = 10, queue_size: int = 5000):
        self.rest_url, self.ws_url = rest_url, ws_url
        self.gate = RestGate(rate=rest_rps, budget=QuotaBudget(limit=6000, window_s=60))
        self.pacer = self.gate.pacer
        self.queue_size = queue_size
        self.client: Any = None
        self.used_weight: int | None = None
        self.dead_read_loops = 0  # python-binance queue overflows (its read loop died)
        self.limits = FeedLimits()
        self.attempts = WindowPacer(limit=self.limits.scaled(300), window_s=300)  # connections per IP
        self.connections = 0
        self.books: BookSync | None = None  # the current stream's local books

    async def open(self) -> None:
        from apps.safety.factory import binance_market_client

        # AsyncClient.create calls ping and time (1 + 1).
        self.client = await self._rest(
            lambda: binance_market_client(rest_url=self.rest_url, ws_url=self.ws_url), weight=2
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def _rest(self, call: Callable[[], Awaitable[Any]], *, weight: int) -> Any:
        from binance.exceptions import BinanceAPIException

        async def guarded() -> Any:
            try:
                result = await call()
            except BinanceAPIException as exc:
                if exc.status_code in (418, 429):
                    retry = exc.response.headers.get("Retry-After") if exc.response is not None else None
                    raise RateLimited(float(retry or 1)) from exc
                raise
            if self.client is not None:
                self.used_weight = self.client.used_weight
                if self.used_weight is not None:
                    self.gate.budget.observe(used=self.used_weight)
            return result

        return await self.gate.call(guarded, weight=weight, exchange=self.exchange)

    async def server_time(self) -> int:
        return await self._rest(lambda: self.client.server_time(), weight=1)

    async def klines(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[KlineEvent]:
        out: list[KlineEvent] = []
        cursor = start_ms
        while cursor <= end_ms:
            rows = await self._rest(lambda c=cursor: self.client.klines(symbol, timeframe, c, end_ms, 1000), weight=2)
            out += [k for r in rows if (k := binance_parse.kline_row(symbol, timeframe, r)) is not None]
            if len(rows) < 1000:
                break
            cursor = int(rows[-1][0]) + TIMEFRAME_MS[timeframe]
        return out

    async def instruments(self) -> list[dict[str, Any]]:
        info = await self._rest(lambda: self.client.exchange_info(), weight=20)
        self._learn_weight_limit(info.get("rateLimits") or [])
        return binance_instruments(info)

    def _learn_weight_limit(self, rate_limits: list[dict[str, Any]]) -> None:
        """The REQUEST_WEIGHT limit the exchange announces is the one the budget keeps to."""
        seconds = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
        for rule in rate_limits:
            if rule.get("rateLimitType") == "REQUEST_WEIGHT" and rule.get("interval") in seconds:
                window = seconds[rule["interval"]] * int(rule.get("intervalNum", 1))
                self.gate.budget.configure(limit=int(rule["limit"]), window_s=window)

    async def tickers(self, symbols: list[str]) -> list[TickerEvent]:
        return []  # streamed (<symbol>@ticker)

    async def stream(self, symbols: list[str], on_event: OnMessage, *, stall_s: float) -> None:
        """As many combined-stream connections as the stream limits need; the first to end
        ends them all (the runner reconnects and backfills)."""
        bsm = self.client.socket_manager(max_queue_size=self.queue_size)
        plans = binance_plan(symbols, lambda group: binance_parse.stream_names(group, TIMEFRAMES), self.limits)
        books = self.books = BookSync(
            self.exchange,
            fetch=self.book_snapshot,
            publish=on_event,
            min_verified=BINANCE_MIN_VERIFIED,
            room=lambda: self.gate.budget.room(BINANCE_BOOK_WEIGHT, share=REFRESH_SHARE),
        )
        sockets = []
        try:
            for names in plans:
                await asyncio.sleep(self.attempts.delay())
                socket = bsm.multiplex_socket(names)
                sockets.append(socket)
                await socket.__aenter__()
            self.connections = len(sockets)
            await first_to_end([self._read(socket, on_event, books, stall_s) for socket in sockets])
        finally:
            await books.close()
            for socket in sockets:
                await binance_socket_shutdown(socket)

    async def book_snapshot(self, symbol: str) -> DepthSnapshot | None:
        payload = await self._rest(
            lambda: self.client.depth(symbol, limit=BINANCE_BOOK_LIMIT), weight=BINANCE_BOOK_WEIGHT
        )
        return binance_parse.depth_snapshot(symbol, payload, limit=BINANCE_BOOK_LIMIT)

    async def _read(self, socket: Any, on_event: OnMessage, books: BookSync, stall_s: float) -> None:
        from binance.exceptions import BinanceWebsocketQueueOverflow, ReadLoopClosed

        while True:
            try:
                message = await asyncio.wait_for(socket.recv(), timeout=stall_s)
            except TimeoutError:
                raise StreamEnded(f"no message for {stall_s}s") from None
            except (ReadLoopClosed, BinanceWebsocketQueueOverflow) as exc:
                self.dead_read_loops += 1
                raise StreamEnded(f"python-binance read loop dead: {exc!r}") from None
            try:
                event = binance_parse.parse_message(message, now_ms=int(time.time() * 1000))
            except MalformedMessage as exc:
                on_event(exc)
                continue
            if isinstance(event, FeedControl):
                on_event(event)
                # The library either reconnects on its own after a 1-60 s sleep or its read
                # loop is already dead: reconnecting ourselves is faster and uniform.
                raise StreamEnded(f"{event.kind}: {event.detail}")
            if isinstance(event, DepthDiff):
                books.on_diff(event)
            elif event is not None:
                on_event(event)


async def binance_socket_shutdown(socket: Any) -> None:
    """Close a python-binance ReconnectingWebsocket for good. Its __aexit__ waits for the read
    loop to notice EXITING, but a read loop in its own reconnect sleep overwrites that state
    when it reconnects and never ends: cancel the loop's task first."""
    from binance.ws.reconnecting_websocket import WSListenerState

    socket.ws_state = WSListenerState.EXITING
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        if getattr(coro, "__qualname__", "").endswith("._read_loop") and frame and frame.f_locals.get("self") is socket:
            task.cancel()
    try:
        await asyncio.wait_for(socket.__aexit__(None, None, None), timeout=2)
    except Exception:  # a half-dead socket may fail to close; it is dropped either way
        logger.debug("binance socket close failed", exc_info=True)


# KuCoin --------------------------------------------------------------------------------


class KucoinAdapter:
    exchange = "kucoin"

    def __init__(self, *, rest_url: str, rest_rps: float = 10, **_: Any):
        self.rest_url = rest_url
        # KuCoin VIP0 public pool: 2000 per 30 s; the answers' gw-ratelimit-* headers correct it.
        self.gate = RestGate(rate=rest_rps, budget=QuotaBudget(limit=2000, window_s=30))
        self.pacer = self.gate.pacer
        self.client: Any = None
        self.used_weight: int | None = None
        self.limits = FeedLimits()
        self.attempts = WindowPacer(limit=self.limits.scaled(30), window_s=60)  # connections per minute
        self.connections = 0
        self.books: BookSync | None = None  # the current stream's local books

    async def open(self) -> None:
        from apps.safety.factory import kucoin_market_client

        self.client = kucoin_market_client(rest_url=self.rest_url)
        await self.server_time()  # reachability, like AsyncClient.create's ping

    async def close(self) -> None:
        if self.client is not None:
            await asyncio.to_thread(self.client.close)
            self.client = None

    async def _rest(self, fn: Callable[[], Any], *, weight: int) -> Any:
        async def call() -> Any:
            try:
                result = await asyncio.to_thread(fn)
            except Exception as exc:
                # kucoin-python raises a bare Exception("<status>-<body>").
                text = str(exc)
                if text.startswith(("429-", "418-")) or '"429000"' in text:
                    raise RateLimited(self._retry_after()) from exc
                raise
            self._track_limit()
            return result

        return await self.gate.call(call, weight=weight, exchange=self.exchange)

    def _retry_after(self) -> float:
        reset = (self.client.rate_limit if self.client else {}).get("gw-ratelimit-reset")
        try:
            return max(float(reset) / 1000.0, 0.5) if reset else 1.0
        except ValueError:
            return 1.0

    def _track_limit(self) -> None:
        rate = self.client.rate_limit
        with contextlib.suppress(KeyError, ValueError):
            limit = int(rate["gw-ratelimit-limit"])
            self.used_weight = limit - int(rate["gw-ratelimit-remaining"])
            self.gate.budget.configure(limit=limit)
            self.gate.budget.observe(used=self.used_weight, reset_in_s=int(rate["gw-ratelimit-reset"]) / 1000)

    async def server_time(self) -> int:
        return await self._rest(self.client.server_time, weight=3)

    async def klines(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[KlineEvent]:
        out: dict[int, KlineEvent] = {}
        step = TIMEFRAME_MS[timeframe]
        cursor = start_ms
        while cursor <= end_ms:
            chunk_end = min(end_ms, cursor + step * 1499)
            rows = await self._rest(
                lambda c=cursor, e=chunk_end: self.client.candles(
                    to_kucoin(symbol), KUCOIN_TYPES[timeframe], c // 1000, e // 1000 + 1
                ),
                weight=3,
            )
            for row in rows if isinstance(rows, list) else []:
                k = kucoin_parse.candle_row(symbol, timeframe, row)
                if k is not None and start_ms <= k.open_time_ms <= end_ms:
                    out[k.open_time_ms] = k
            cursor = chunk_end + step
        return [out[t] for t in sorted(out)]  # KuCoin answers newest first

    async def instruments(self) -> list[dict[str, Any]]:
        return kucoin_instruments(await self._rest(self.client.symbols, weight=4))

    async def tickers(self, symbols: list[str]) -> list[TickerEvent]:
        data = await self._rest(self.client.all_tickers, weight=15)
        wanted = {to_kucoin(s): s for s in symbols}
        rows = [row for row in data.get("ticker") or [] if row and row.get("symbol") in wanted]
        tickers = (kucoin_parse.stats_ticker(wanted[r["symbol"]], {**r, "time": data.get("time") or 0}) for r in rows)
        return [t for t in tickers if t is not None]  # a never-traded pair has no ticker

    async def stream(self, symbols: list[str], on_event: OnMessage, *, stall_s: float) -> None:
        """As many connections as the topic limits need, subscribe messages paced under the
        uplink limit; any connection that goes quiet or reconnects on its own ends them all."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        plans = kucoin_plan(symbols, lambda group: kucoin_parse.topics(group, TIMEFRAMES), self.limits)
        books = self.books = BookSync(
            self.exchange,
            fetch=self.book_snapshot,
            publish=on_event,
            min_verified=KUCOIN_MIN_VERIFIED,
            room=lambda: self.gate.budget.room(KUCOIN_BOOK_WEIGHT, share=REFRESH_SHARE),
        )
        links: list[KucoinLink] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            for topics in plans:
                link = await self._open_link(queue, len(links))
                links.append(link)
                pacer = WindowPacer(
                    limit=self.limits.scaled(self.limits.kucoin_uplink), window_s=self.limits.kucoin_uplink_window_s
                )
                tasks.append(asyncio.create_task(kucoin_subscribe(link, topics, pacer)))
            self.connections = len(links)
            await self._consume(queue, links, tasks, on_event, books, stall_s)
        finally:
            await books.close()
            for task in tasks:
                task.cancel()
            for link in links:
                await kucoin_ws_shutdown(link.ws)

    async def book_snapshot(self, symbol: str) -> DepthSnapshot | None:
        data = await self._rest(
            lambda: self.client.part_book(to_kucoin(symbol), KUCOIN_BOOK_LIMIT), weight=KUCOIN_BOOK_WEIGHT
        )
        return kucoin_parse.book_snapshot(symbol, data, limit=KUCOIN_BOOK_LIMIT)

    async def _open_link(self, queue: asyncio.Queue[dict[str, Any]], index: int) -> KucoinLink:
        link = KucoinLink(index)

        async def callback(message: dict[str, Any]) -> None:
            link.last_message = time.monotonic()
            queue.put_nowait(message)

        await asyncio.sleep(self.attempts.delay())
        await self.gate.spend(10)  # kucoin-python fetches its bullet-public token (weight 10) itself
        # The safety factory's guarded client: public token only, private topics refused.
        link.ws = await self.client.public_ws(callback)
        return link

    async def _consume(
        self,
        queue: asyncio.Queue[dict[str, Any]],
        links: list[KucoinLink],
        tasks: list[asyncio.Task[None]],
        on_event: OnMessage,
        books: BookSync,
        stall_s: float,
    ) -> None:
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                message = None
            trouble = kucoin_link_trouble(links, tasks, stall_s)
            if trouble is not None:
                raise StreamEnded(trouble)
            if message is None:
                continue
            try:
                event = kucoin_parse.parse_message(message)
            except MalformedMessage as exc:
                on_event(exc)
                continue
            # An error message (e.g. an unknown topic) does not end the stream: if the
            # server drops us, the stall timeout or the link check does.
            if isinstance(event, DepthDiff):
                books.on_diff(event)
            else:
                on_event(event)


async def kucoin_ws_shutdown(ws: Any) -> None:
    """kucoin-python has no close(): its tasks swallow CancelledError and reconnect forever.
    Cancel every ConnectWebsocket task of this loop, then close the socket."""
    conn = getattr(ws, "_conn", None)
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", "")
        # Matches the library's ConnectWebsocket and the safety layer's guarded subclass.
        if "ConnectWebsocket." in name and task is not asyncio.current_task():
            task.cancel()
    socket = getattr(conn, "_socket", None)
    if socket is not None:
        try:
            await asyncio.wait_for(socket.close(), timeout=1)
        except Exception:  # closing a dead socket may fail; it is gone either way
            logger.debug("kucoin socket close failed", exc_info=True)


def adapter_build(exchange: str, *, urls: dict[str, str], rest_rps: float, queue_size: int) -> ExchangeAdapter:
    if exchange == "binance":
        return BinanceAdapter(
            rest_url=urls["binance_rest"], ws_url=urls["binance_ws"], rest_rps=rest_rps, queue_size=queue_size
        )
    if exchange == "kucoin":
        return KucoinAdapter(rest_url=urls["kucoin_rest"], rest_rps=rest_rps)
    raise ValueError(f"unknown exchange {exchange!r}")
