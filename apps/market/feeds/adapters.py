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
from apps.market.feeds.backoff import RestPacer
from apps.market.feeds.control import FeedControl, MalformedMessage
from apps.market.feeds.instruments import binance_instruments, kucoin_instruments
from apps.market.feeds.symbols import KUCOIN_TYPES, TIMEFRAME_MS, TIMEFRAMES, to_kucoin

logger = logging.getLogger("apps.market.feeds")

OnMessage = Callable[[Any], None]  # an event, a FeedControl, or None


class StreamEnded(Exception):
    """The connection ended (closed, server shutdown, dead read loop, stall)."""


class RateLimited(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


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


async def _paced(pacer: RestPacer, call: Callable[[], Awaitable[Any]], *, exchange: str) -> Any:
    """One REST call: wait for the pacer, retry a 429/418 after its Retry-After (3 tries)."""
    from apps.market import metrics

    for attempt in range(4):
        await asyncio.sleep(pacer.delay())
        try:
            return await call()
        except RateLimited as exc:
            metrics.rate_limited.labels(exchange).inc()
            logger.warning("%s REST rate limited; retry after %.1fs", exchange, exc.retry_after)
            pacer.block(exc.retry_after)
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


# Binance -------------------------------------------------------------------------------


class BinanceAdapter:
    exchange = "binance"

    def __init__(self, *, rest_url: str, ws_url: str, rest_rps: float = 10, queue_size: int = 5000):
        self.rest_url, self.ws_url = rest_url, ws_url
        self.pacer = RestPacer(rate=rest_rps)
        self.queue_size = queue_size
        self.client: Any = None
        self.used_weight: int | None = None
        self.dead_read_loops = 0  # python-binance queue overflows (its read loop died)

    async def open(self) -> None:
        from apps.safety.factory import binance_market_client

        self.client = await self._rest(lambda: binance_market_client(rest_url=self.rest_url, ws_url=self.ws_url))

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def _rest(self, call: Callable[[], Awaitable[Any]]) -> Any:
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
            return result

        return await _paced(self.pacer, guarded, exchange=self.exchange)

    async def server_time(self) -> int:
        return await self._rest(lambda: self.client.server_time())

    async def klines(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[KlineEvent]:
        out: list[KlineEvent] = []
        cursor = start_ms
        while cursor <= end_ms:
            rows = await self._rest(lambda c=cursor: self.client.klines(symbol, timeframe, c, end_ms, 1000))
            out += [k for r in rows if (k := binance_parse.kline_row(symbol, timeframe, r)) is not None]
            if len(rows) < 1000:
                break
            cursor = int(rows[-1][0]) + TIMEFRAME_MS[timeframe]
        return out

    async def instruments(self) -> list[dict[str, Any]]:
        return binance_instruments(await self._rest(lambda: self.client.exchange_info()))

    async def tickers(self, symbols: list[str]) -> list[TickerEvent]:
        return []  # streamed (<symbol>@ticker)

    async def stream(self, symbols: list[str], on_event: OnMessage, *, stall_s: float) -> None:
        from binance.exceptions import BinanceWebsocketQueueOverflow, ReadLoopClosed

        bsm = self.client.socket_manager(max_queue_size=self.queue_size)
        socket = bsm.multiplex_socket(binance_parse.stream_names(symbols, TIMEFRAMES))
        await socket.__aenter__()
        try:
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
                if event is not None:
                    on_event(event)
        finally:
            await binance_socket_shutdown(socket)


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
        self.pacer = RestPacer(rate=rest_rps)
        self.client: Any = None
        self.used_weight: int | None = None

    async def open(self) -> None:
        from apps.safety.factory import kucoin_market_client

        self.client = kucoin_market_client(rest_url=self.rest_url)
        await self.server_time()  # reachability, like AsyncClient.create's ping

    async def close(self) -> None:
        if self.client is not None:
            await asyncio.to_thread(self.client.close)
            self.client = None

    async def _rest(self, fn: Callable[[], Any]) -> Any:
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

        return await _paced(self.pacer, call, exchange=self.exchange)

    def _retry_after(self) -> float:
        reset = (self.client.rate_limit if self.client else {}).get("gw-ratelimit-reset")
        try:
            return max(float(reset) / 1000.0, 0.5) if reset else 1.0
        except ValueError:
            return 1.0

    def _track_limit(self) -> None:
        rate = self.client.rate_limit
        with contextlib.suppress(KeyError, ValueError):
            self.used_weight = int(rate["gw-ratelimit-limit"]) - int(rate["gw-ratelimit-remaining"])

    async def server_time(self) -> int:
        return await self._rest(self.client.server_time)

    async def klines(self, symbol: str, timeframe: str, start_ms: int, end_ms: int) -> list[KlineEvent]:
        out: dict[int, KlineEvent] = {}
        step = TIMEFRAME_MS[timeframe]
        cursor = start_ms
        while cursor <= end_ms:
            chunk_end = min(end_ms, cursor + step * 1499)
            rows = await self._rest(
                lambda c=cursor, e=chunk_end: self.client.candles(
                    to_kucoin(symbol), KUCOIN_TYPES[timeframe], c // 1000, e // 1000 + 1
                )
            )
            for row in rows if isinstance(rows, list) else []:
                k = kucoin_parse.candle_row(symbol, timeframe, row)
                if k is not None and start_ms <= k.open_time_ms <= end_ms:
                    out[k.open_time_ms] = k
            cursor = chunk_end + step
        return [out[t] for t in sorted(out)]  # KuCoin answers newest first

    async def instruments(self) -> list[dict[str, Any]]:
        return kucoin_instruments(await self._rest(self.client.symbols))

    async def tickers(self, symbols: list[str]) -> list[TickerEvent]:
        data = await self._rest(self.client.all_tickers)
        wanted = {to_kucoin(s): s for s in symbols}
        rows = [row for row in data.get("ticker") or [] if row and row.get("symbol") in wanted]
        tickers = (kucoin_parse.stats_ticker(wanted[r["symbol"]], {**r, "time": data.get("time") or 0}) for r in rows)
        return [t for t in tickers if t is not None]  # a never-traded pair has no ticker

    async def stream(self, symbols: list[str], on_event: OnMessage, *, stall_s: float) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def callback(message: dict[str, Any]) -> None:
            queue.put_nowait(message)

        # The safety factory's guarded client: public token only, private topics refused.
        ws = await self.client.public_ws(callback)
        try:
            for topic in kucoin_parse.topics(symbols, TIMEFRAMES):
                await ws.subscribe(topic)
            conn = getattr(ws, "_conn", None)
            socket = None
            last_message = time.monotonic()
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=0.5)
                except TimeoutError:
                    if time.monotonic() - last_message > stall_s:
                        raise StreamEnded(f"no message for {stall_s}s") from None
                    continue
                last_message = time.monotonic()
                current = getattr(conn, "_socket", None)
                if current is not socket:
                    if socket is not None:
                        # kucoin-python reconnected (and resubscribed) on its own.
                        on_event(FeedControl("reconnected", "kucoin-python reconnect"))
                    socket = current
                try:
                    event = kucoin_parse.parse_message(message)
                except MalformedMessage as exc:
                    on_event(exc)
                    continue
                # An error message (e.g. an unknown topic) does not end the stream: if the
                # server drops us, the stall timeout does.
                on_event(event)
        finally:
            await kucoin_ws_shutdown(ws)


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
