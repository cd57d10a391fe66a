"""Sending the after-commit portfolio pushes from sync code without a new event loop each time.

``async_to_sync`` outside an event loop builds a thread pool and an event loop per call
(~1 ms), and with the Redis channel layer a fresh connection pool per loop. Here one daemon
thread per process runs a long-lived loop. A push is handed to that loop and not waited
for: the order is committed already, and waiting (~0.3 ms a push) would hold up every
order of a group-commit batch behind the previous one's push. Pushes keep their order (one
loop, FIFO); a failed one is logged.

Code already running under ``sync_to_async`` (an async server's sync views) keeps using
``apps.portfolio.realtime.portfolio_update_broadcast``, which sends on that server's loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer

from apps.portfolio import realtime

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _push_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="portfolio-pushes", daemon=True).start()
            _loop = loop
        return _loop


def _in_async_server() -> bool:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop is not None and loop.is_running()


def portfolio_push(*, portfolio_id: int, event: str, data: dict[str, Any]) -> None:
    """Same message and guarantees as ``realtime.portfolio_update_broadcast``: never raises."""
    if _in_async_server():
        realtime.portfolio_update_broadcast(portfolio_id=portfolio_id, event=event, data=data)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "portfolio.update", "event": event, "portfolio_id": portfolio_id, "data": data}
    group = realtime.portfolio_group(portfolio_id)
    try:
        sent = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _push_loop())
    except Exception:
        logger.warning("portfolio push failed for %s", portfolio_id, exc_info=True)
        return
    sent.add_done_callback(lambda future: _log_failure(future, portfolio_id))


def _log_failure(future: Any, portfolio_id: int) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("portfolio push failed for %s", portfolio_id, exc_info=future.exception())
