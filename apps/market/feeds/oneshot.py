"""One-shot REST jobs outside a running feed (Celery worker, management commands):
candle backfill of gaps and instrument sync, through the same adapters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from apps.market.feeds.adapters import adapter_build
from apps.market.feeds.symbols import TIMEFRAME_MS, TIMEFRAMES


async def _with_adapter(exchange: str, urls: dict[str, str], job: Callable[[Any], Any]) -> Any:
    adapter = adapter_build(exchange, urls=urls, rest_rps=10, queue_size=100)
    await adapter.open()
    try:
        return await job(adapter)
    finally:
        await adapter.close()


def backfill_run(
    *,
    exchange: str,
    symbols: list[str],
    urls: dict[str, str],
    count: int,
    timeframes: tuple[str, ...] = TIMEFRAMES,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fetch and upsert every closed candle missing since the newest stored one (at most
    ``count`` back per timeframe). Returns the number of candles written."""
    from apps.market.cache import backfill_progress_set
    from apps.market.selectors import candle_last_open_map
    from apps.market.services import candles_upsert

    covered = candle_last_open_map(exchange=exchange, symbols=symbols)
    keys = [(s, tf) for s in symbols for tf in timeframes]

    async def job(adapter: Any) -> int:
        clock = await adapter.server_time()
        written = 0
        for done, (symbol, tf) in enumerate(keys, start=1):
            step = TIMEFRAME_MS[tf]
            floor = clock - clock % step - count * step
            have = covered.get((symbol, tf))
            start = floor if have is None else max(have + step, floor)
            rows = await adapter.klines(symbol, tf, start, clock)
            closed = [k for k in rows if k.open_time_ms + step <= clock]
            written += await asyncio.to_thread(candles_upsert, candles=closed)
            backfill_progress_set(exchange, done=done, total=len(keys), state="running")
            if progress:
                progress(done, len(keys))
        backfill_progress_set(exchange, done=len(keys), total=len(keys), state="done")
        return written

    return asyncio.run(_with_adapter(exchange, urls, job))


def instruments_run(*, exchange: str, urls: dict[str, str]) -> int:
    from apps.market.services import instruments_sync

    async def job(adapter: Any) -> list[dict[str, Any]]:
        return await adapter.instruments()

    rows = asyncio.run(_with_adapter(exchange, urls, job))
    return instruments_sync(exchange=exchange, rows=rows)
