"""Starting the market: choose live or simulated data, start the feeds (and the simulator).

``start_embedded_market(source)`` is what ``make run`` (the lead's serve command) calls to run
the feeds in background threads of the web process; ``run_feeds`` calls ``market_start`` in
the production feeds process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.market.feeds.config import FeedConfig
from apps.market.feeds.lease import lease_client
from apps.market.feeds.supervisor import FeedSupervisor

logger = logging.getLogger("apps.market.feeds")

EXCHANGES = ("binance", "kucoin")
_current: MarketHandle | None = None


@dataclass
class MarketHandle:
    source: str  # "live" | "simulated"
    supervisor: FeedSupervisor
    simulator: Any = None
    urls: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        global _current
        self.supervisor.stop()
        if self.simulator is not None:
            self.simulator.stop_thread()
        if _current is self:
            _current = None


def configured_urls() -> dict[str, str]:
    return {
        "binance_rest": settings.BINANCE_REST_URL,
        "binance_ws": settings.BINANCE_WS_URL,
        "kucoin_rest": settings.KUCOIN_REST_URL,
    }


def simulator_urls(sim: Any) -> dict[str, str]:
    return {"binance_rest": sim.binance_rest_url, "binance_ws": sim.binance_ws_url, "kucoin_rest": sim.kucoin_rest_url}


async def _probe_binance(urls: dict[str, str]) -> None:
    from apps.safety.factory import binance_market_client

    client = await binance_market_client(rest_url=urls["binance_rest"], ws_url=urls["binance_ws"])
    await client.close()


def exchanges_reachable(urls: dict[str, str] | None = None, *, timeout: float | None = None) -> bool:
    """Both real exchanges answer their ping/time endpoints within ``timeout`` seconds."""
    from concurrent.futures import ThreadPoolExecutor

    from apps.safety.factory import kucoin_market_client

    urls = urls or configured_urls()
    timeout = timeout or settings.MARKET_PROBE_TIMEOUT_S

    async def probe() -> None:
        kucoin = kucoin_market_client(rest_url=urls["kucoin_rest"])
        try:
            await asyncio.wait_for(
                asyncio.gather(_probe_binance(urls), asyncio.to_thread(kucoin.server_time)), timeout=timeout
            )
        finally:
            kucoin.close()

    with ThreadPoolExecutor(1) as pool:  # a fresh loop even when called from async code
        try:
            pool.submit(asyncio.run, probe()).result(timeout=timeout + 2)
            return True
        except Exception as exc:
            logger.warning("real exchanges unreachable (%r): using the simulator", exc)
            return False


def feed_configs(
    *,
    urls: dict[str, str],
    simulated: bool,
    exchanges: tuple[str, ...] = EXCHANGES,
    symbols: list[str] | None = None,
    push_loop: asyncio.AbstractEventLoop | None = None,
    progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
    **overrides: Any,
) -> list[FeedConfig]:
    from apps.market.selectors import feed_symbols

    client = lease_client()
    configs = []
    for exchange in exchanges:
        configs.append(
            FeedConfig(
                exchange=exchange,
                symbols=symbols or feed_symbols(exchange=exchange),
                urls=urls,
                simulated=simulated,
                backfill_candles=settings.MARKET_BACKFILL_CANDLES,
                stall_s=settings.MARKET_FEED_STALE_S,
                rest_rps=settings.MARKET_REST_MAX_RPS,
                gap_grace_ms=settings.MARKET_GAP_GRACE_MS,
                queue_size=settings.MARKET_WS_QUEUE_SIZE,
                flush_ms=settings.MARKET_CACHE_FLUSH_MS,
                push_hz=settings.MARKET_PUSH_HZ,
                recent_trades=settings.MARKET_RECENT_TRADES,
                # Stable per exchange (also when run_feeds runs one exchange per process): the
                # exchanges' pushes interleave rather than coincide.
                push_phase=EXCHANGES.index(exchange) / len(EXCHANGES) if exchange in EXCHANGES else 0.0,
                reconnect_max_s=settings.MARKET_RECONNECT_MAX_S,
                lease_ttl_s=settings.MARKET_LEASE_TTL_S,
                lease_client=client,
                push_loop=push_loop,
                progress=progress(exchange) if progress else None,
                **overrides,
            )
        )
    return configs


def market_start(
    source: str | None = None,
    *,
    exchanges: tuple[str, ...] = EXCHANGES,
    symbols: list[str] | None = None,
    push_loop: asyncio.AbstractEventLoop | None = None,
    progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
    **overrides: Any,
) -> MarketHandle:
    """source: auto | live | sim (default MARKET_SOURCE)."""
    global _current
    from apps.core.banner import register_banner_provider

    source = (source or settings.MARKET_SOURCE).lower()
    urls = configured_urls()
    simulator = None
    if source == "sim" or (source == "auto" and not exchanges_reachable(urls)):
        from apps.market.simulator import ExchangeSimulator

        simulator = ExchangeSimulator(
            seed=settings.SIMULATOR_SEED,
            symbols=symbols,
            binance_port=settings.SIMULATOR_BINANCE_PORT,
            kucoin_port=settings.SIMULATOR_KUCOIN_PORT,
        )
        simulator.start_in_thread()
        urls = simulator_urls(simulator)
    mode = "simulated" if simulator is not None else "live"
    configs = feed_configs(
        urls=urls,
        simulated=simulator is not None,
        exchanges=exchanges,
        symbols=symbols,
        push_loop=push_loop,
        progress=progress,
        **overrides,
    )
    stale_s = settings.MARKET_FEED_STALE_S
    # The embedded simulator is a producer too: its engine's heartbeat is watched with the feeds.
    watchers = [lambda: simulator.engine_watch(silent_s=stale_s * 3)] if simulator is not None else []
    supervisor = FeedSupervisor(configs, stale_s=stale_s, watchers=watchers).start()
    handle = MarketHandle(source=mode, supervisor=supervisor, simulator=simulator, urls=urls)
    started_at = time.time()
    register_banner_provider("market_mode", lambda: market_mode_shown(mode, exchanges=exchanges, since=started_at))
    _current = handle
    logger.info("market started: %s (%s)", mode, ", ".join(exchanges))
    return handle


def start_embedded_market(
    source: str | None = None,
    *,
    push_loop: asyncio.AbstractEventLoop | None = None,
    closes_sink: Callable[..., None] | None = None,
) -> MarketHandle:
    """For ``make run``: feeds (and, offline, the simulator) in background threads of the web
    process. Pass the server's event loop as ``push_loop`` when the channel layer is the
    in-memory one, so pushes are delivered on the loop the consumers wait on; ``closes_sink``
    is told of final closed candles (``FeedConfig.closes_sink``)."""
    return market_start(source, push_loop=push_loop, closes_sink=closes_sink)


def market_mode_shown(mode: str, *, exchanges: tuple[str, ...], since: float) -> str:
    """The banner's market mode: "stalled" while any feed is down, reconnecting or has not
    had a message for 3 x MARKET_FEED_STALE_S; the source (live | simulated) otherwise.
    Status records older than ``since`` (the market's start) are a previous run's."""
    from apps.market.cache import feed_status_get

    limit_ms = settings.MARKET_FEED_STALE_S * 3 * 1000
    for exchange in exchanges:
        status = feed_status_get(exchange)
        if (status.get("updated_at") or 0) < since:
            continue
        if status["state"] in ("down", "reconnecting"):
            return "stalled"
        if status["lag_ms"] is not None and status["lag_ms"] > limit_ms:
            return "stalled"
    return mode


def market_current() -> MarketHandle | None:
    return _current


def market_mode_get() -> str:
    """live | simulated | unknown (no feeds in this process)."""
    return _current.source if _current is not None else "unknown"
