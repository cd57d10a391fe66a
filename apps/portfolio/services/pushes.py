"""Sending after-commit pushes (portfolio and bot pages) from sync code.

``async_to_sync`` outside an event loop builds a thread pool and an event loop per call
(~1 ms), and with the Redis channel layer a fresh connection pool per loop. Here one
long-lived loop sends them: a daemon thread's, or in the embedded server the server's own
(``push_loop_use``), because the in-memory channel layer's queues belong to the loop its
consumers wait on and a message put from another loop does not wake them.

A push is queued and not waited for: the order is committed already, and waiting (~0.3 ms
a push) would hold up every order of a group-commit batch behind the previous one's push.
The loop is woken once per burst, not once per push (a batch of orders queues its pushes
together, and a wake-up costs a future, a task and a pipe write). Pushes keep their order
(one queue, one drainer); a failed one is logged and the rest still go out.

Code already running under ``sync_to_async`` (an async server's sync views) sends on that
server's loop directly.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from apps.portfolio import realtime

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
# Queued pushes (group, message) and whether a drainer runs on the loop.
_queue: deque[tuple[str, dict[str, Any]]] = deque()
_draining = False


def push_loop_use(loop: asyncio.AbstractEventLoop) -> None:
    """Send every push on ``loop`` (the embedded server's, which its consumers wait on)."""
    global _loop
    with _lock:
        _loop = loop


def _push_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="pushes", daemon=True).start()
            _loop = loop
        return _loop


def _in_async_server() -> bool:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop is not None and loop.is_running()


def group_push(*, group: str, message: dict[str, Any]) -> None:
    """Send ``message`` to ``group`` soon, in order with the other pushes; never raises."""
    global _draining
    layer = get_channel_layer()
    if layer is None:
        return
    if _in_async_server():
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:
            logger.warning("push to %s failed", group, exc_info=True)
        return
    loop = _push_loop()
    with _lock:
        _queue.append((group, message))
        if _draining:
            return  # the running drainer will send it
        _draining = True
    try:
        loop.call_soon_threadsafe(_drain_start)
    except Exception:  # the loop is gone (interpreter shutdown)
        logger.warning("push to %s failed", group, exc_info=True)
        with _lock:
            _draining = False


def portfolio_push(*, portfolio_id: int, event: str, data: dict[str, Any]) -> None:
    """The portfolio page's update (the message the ``realtime`` module docstring describes)."""
    message = {"type": "portfolio.update", "event": event, "portfolio_id": portfolio_id, "data": data}
    group_push(group=realtime.portfolio_group(portfolio_id), message=message)


def _drain_start() -> None:
    asyncio.get_running_loop().create_task(_drain())


async def _drain() -> None:
    global _draining
    try:
        layer = get_channel_layer()
        while True:
            with _lock:
                if not _queue:
                    _draining = False
                    return
                burst = list(_queue)
                _queue.clear()
            for group, message in burst:
                try:
                    await layer.group_send(group, message)
                except Exception:
                    logger.warning("push to %s failed", group, exc_info=True)
    except BaseException:
        with _lock:  # the next push starts a new drainer
            _draining = False
        raise
