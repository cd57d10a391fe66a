"""Closing a feed's event loop so that nothing of it outlives it.

Why this is its own careful step (the 21-minute freeze of ``make run``, issue 16):

kucoin-python's ``ConnectWebsocket._run`` catches CancelledError and goes on reading, so a
cancel does not end it; when the server does not answer the close handshake (the embedded
simulator hung on a long request, which is also why the feed was silent and got killed), the
adapter's own close times out too. The runner used to close its loop after a 1 s wait with
those tasks (and its ``_stream_loop`` awaiting them) still pending. Their coroutines then
lived on in reference cycles until the cyclic garbage collector found them, on whichever
thread it happened to run, most often the busiest allocator: the simulator's engine thread.
Finalizing a coroutine throws GeneratorExit into it; websockets' ``close()`` then entered
``asyncio.timeout_at()``, which takes the *running* loop and *current* task of the finalizing
thread, i.e. the simulator's loop and its engine task, and armed a timer there before the
coroutine yielded ("coroutine ignored GeneratorExit"; other leftovers logged "Event loop is
closed" and "Task was destroyed but it is pending!"). The timer fired and cancelled the engine
task: REST prices froze and every stream went silent, for good, while the feeds restarted
against a dead simulator.

So a loop is closed only once no task lives on it: cancel (again and again, a swallowed cancel
is re-sent), drop the loop's sockets without a handshake so readers that ignore cancels end
on the lost connection, finalize async generators and the executor on this loop, and close any
coroutine that still survives here, on this thread with no loop running, where asyncio calls
fail instead of landing on another thread's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

logger = logging.getLogger("apps.market.feeds")

# Coroutines that refused to finish even when closed here: kept referenced so the garbage
# collector never finalizes them on another thread (bounded; logged, never expected).
_unfinished: list[Any] = []
_UNFINISHED_MAX = 100


def loop_close_clean(loop: asyncio.AbstractEventLoop, *, budget_s: float = 5.0) -> int:
    """Close ``loop`` (not running) after ending every task on it; returns how many tasks
    had to be closed by force (0 when all ended on cancel or on their lost sockets)."""
    deadline = time.monotonic() + budget_s
    rounds = 0
    while time.monotonic() < deadline:
        pending = _pending(loop)
        if not pending:
            break
        for task in pending:
            task.cancel()
        if rounds:
            _abort_transports(loop)  # the first cancel gets a chance at a clean close
        rounds += 1
        loop.run_until_complete(asyncio.wait(pending, timeout=min(0.5, max(0.05, deadline - time.monotonic()))))
    _shutdown_on_loop(loop)
    forced = _close_leftovers(loop)
    loop.close()
    return forced


def _pending(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks(loop) if not t.done()]


def _abort_transports(loop: asyncio.AbstractEventLoop) -> None:
    # The selector loop's registry of its socket transports (CPython's selector_events).
    transports = getattr(loop, "_transports", None) or {}
    for transport in list(transports.values()):
        with contextlib.suppress(Exception):
            transport.abort()


def _shutdown_on_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Async generators are finalized here, on their loop, not by the GC elsewhere; the
    default executor is shut down without waiting for a call stuck in a thread."""
    for step in (loop.shutdown_asyncgens(), loop.shutdown_default_executor()):
        try:
            loop.run_until_complete(asyncio.wait_for(step, timeout=1.0))
        except Exception as exc:
            logger.debug("feed loop shutdown step failed: %r", exc)


def _close_leftovers(loop: asyncio.AbstractEventLoop) -> int:
    leftovers = _pending(loop)
    for task in leftovers:
        coro = task.get_coro()
        for _ in range(3):
            try:
                coro.close()  # type: ignore[union-attr]
            except BaseException as exc:  # whatever it raises, it ends here
                logger.debug("closing a leftover feed coroutine: %r", exc)
            if getattr(coro, "cr_frame", None) is None:
                break
        else:
            if len(_unfinished) < _UNFINISHED_MAX:
                _unfinished.append(coro)
        task._log_destroy_pending = False  # type: ignore[attr-defined]
    if leftovers:
        names = sorted({getattr(t.get_coro(), "__qualname__", "?") for t in leftovers})
        logger.warning("feed loop closed %d task(s) that ignored cancellation: %s", len(leftovers), names)
    return len(leftovers)
