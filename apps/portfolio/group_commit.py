"""Group commit: concurrent callers in one process share one transaction (flat combining).

Why: a durable paper order spends most of its time waiting for Postgres (two round trips
plus the WAL flush of its COMMIT), not computing. When many threads place orders at once
(API worker threads), writing them one transaction each leaves the CPU idle and pays a
flush per order. Here a caller that finds a free *lane* becomes the leader: it takes the
waiting requests (its own among them, up to ``max_batch``), runs them in one transaction
through ``run_batch`` and wakes their callers; the others sleep meanwhile.

* A lone caller leads a batch of one, so sequential latency is unchanged.
* ``lanes`` leaders may run at once: one batch's Python work overlaps another's database
  wait. Batches on different lanes that touch the same portfolio serialise on its row lock.
* A leader whose own request is done hands its lane to the oldest waiter, so nobody leads
  forever and the queue never stalls.
* Each caller gets its own result or its own exception: ``run_batch`` decides per request.

Callers already inside a transaction of their own never come here: their order must commit
with that transaction, so the order service (``services.placement.order_submit``) runs it
alone. The bot runner is one (it places inside the transaction that claims the candle).

Pure threading, no Django: the order service supplies ``run_batch``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

P = TypeVar("P")


class Ticket(Generic[P]):
    """One caller's request and, once ``done``, its result or error."""

    __slots__ = ("payload", "result", "error", "done", "promoted", "_cv")

    def __init__(self, payload: P, lock: threading.Lock) -> None:
        self.payload = payload
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.promoted = False  # handed a lane by a leader that stepped down
        # One condition per ticket on the group's lock: waking one caller wakes nobody else.
        self._cv = threading.Condition(lock)

    def finish(self) -> None:
        """Wake the caller; idempotent (``run_batch`` may finish early, on commit)."""
        with self._cv:
            self.done = True
            self._cv.notify()

    def fail(self, error: BaseException) -> None:
        self.result, self.error = None, error
        self.finish()

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit(Generic[P]):
    def __init__(self, *, run_batch: Callable[[list[Ticket[P]]], None], max_batch: int, lanes: int) -> None:
        if max_batch < 1 or lanes < 1:
            raise ValueError("max_batch and lanes must be at least 1")
        self._run_batch = run_batch
        self.max_batch = max_batch
        self.lanes = lanes
        self._lock = threading.Lock()
        self._waiting: deque[Ticket[P]] = deque()
        self._leaders = 0
        self.batches = 0  # counters for metrics and tests
        self.requests = 0

    @property
    def lanes_in_use(self) -> int:
        """Lanes held by a leader (or handed to a waiter about to lead); 0 when idle."""
        with self._lock:
            return self._leaders

    def submit(self, payload: P) -> Any:
        """Run ``payload`` in some leader's batch; returns its result or raises its error."""
        ticket: Ticket[P] = Ticket(payload, self._lock)
        with self._lock:
            self._waiting.append(ticket)
            lead = self._leaders < self.lanes
            if lead:
                self._leaders += 1
            else:
                ticket._cv.wait_for(lambda: ticket.done or ticket.promoted)
                lead = ticket.promoted
        if lead:
            self._lead(ticket)
        return ticket.outcome()

    def _lead(self, own: Ticket[P]) -> None:
        """Run batches until ``own`` is done, then pass the lane on."""
        while True:
            with self._lock:
                count = min(len(self._waiting), self.max_batch)
                batch = [self._waiting.popleft() for _ in range(count)]
                if not batch:
                    # Our request is in another lane's batch: give the lane back and wait.
                    self._leaders -= 1
                    break
                # Counted under the lock: two lanes may form batches at once.
                self.batches += 1
                self.requests += len(batch)
            self._run(batch)
            if own.done:
                self._step_down()
                return
        with self._lock:
            own._cv.wait_for(lambda: own.done)

    def _step_down(self) -> None:
        with self._lock:
            # The oldest waiter not handed a lane already: two leaders stepping down before
            # the first successor woke would otherwise both promote it, and one lane would
            # be lost for good (the group then runs one batch at a time).
            successor = next((ticket for ticket in self._waiting if not ticket.promoted), None)
            if successor is not None:
                successor.promoted = True  # stays queued: it drains itself as leader
                successor._cv.notify()
            else:
                self._leaders -= 1

    def _run(self, batch: list[Ticket[P]]) -> None:
        try:
            self._run_batch(batch)
        except BaseException as error:  # a bug in run_batch: every caller hears of it
            logger.exception("group commit batch of %d failed", len(batch))
            for ticket in batch:
                if not ticket.done:
                    ticket.fail(error)
        for ticket in batch:
            ticket.finish()
