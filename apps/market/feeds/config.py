"""What one exchange feed runs with (built by the process's composition: ``embedded.feed_configs``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FeedConfig:
    exchange: str
    symbols: list[str]
    urls: dict[str, str]
    simulated: bool = False
    backfill_candles: int = 500
    stall_s: float = 5.0
    rest_rps: float = 20.0
    queue_size: int = 5000
    # A candle counts as final this long (exchange time) after its close: REST answers and
    # event timestamps can run ahead of the exchange's own candle bookkeeping.
    gap_grace_ms: int = 2000
    gap_check_s: float = 0.5
    flush_ms: int = 100
    push_hz: float = 4.0
    recent_trades: int = 50  # per symbol, in the cache (MARKET_RECENT_TRADES)
    # Where this feed's push ticks sit within a tick, as a fraction of it: feeds of one host
    # with different phases interleave their pushes instead of sending them at the same
    # instants (the tick grid is on the monotonic clock, which all processes share).
    push_phase: float = 0.0
    reconnect_max_s: float = 30.0
    lease_ttl_s: float = 15.0
    lease_client: Any = None
    sync_instruments: bool = True
    push_loop: asyncio.AbstractEventLoop | None = None  # embedded: the web server's loop
    progress: Callable[[int, int], None] | None = None
    # Who is told of final closed candles: ``closes_sink(exchange=..., closes={(symbol,
    # timeframe): newest open_time_ms})``, called on the feed's DB thread. The process's
    # composition root hands in the bot runner's (run_feeds, serve); None tells nobody.
    closes_sink: Callable[..., None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
