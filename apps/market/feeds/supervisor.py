"""Feed supervisor: starts one FeedRunner per exchange and restarts any that dies.

The watchdog thread checks every second; the Celery beat watchdog task calls the same
``check()`` on every supervisor of its process (embedded mode runs beat in-process).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace

from apps.market import metrics
from apps.market.feeds.config import FeedConfig
from apps.market.feeds.runner import FeedRunner

logger = logging.getLogger("apps.market.feeds")

_supervisors: weakref.WeakSet[FeedSupervisor] = weakref.WeakSet()


class FeedSupervisor:
    def __init__(
        self,
        configs: list[FeedConfig],
        *,
        stale_s: float = 5.0,
        check_s: float = 1.0,
        watchers: list[Callable[[], str | None]] | None = None,
    ):
        self.configs = {c.exchange: c for c in configs}
        # Other producers' heartbeat checks (the embedded simulator's engine): each restarts
        # its producer when stalled and returns why, or None.
        self.watchers = list(watchers or [])
        self.runners: dict[str, FeedRunner] = {}
        self.stale_s = stale_s
        self.check_s = check_s
        self.restarts = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> FeedSupervisor:
        for exchange, config in self.configs.items():
            self.runners[exchange] = FeedRunner(config).start()
        self._thread = threading.Thread(target=self._watch, name="feed-watchdog", daemon=True)
        self._thread.start()
        _supervisors.add(self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            for runner in self.runners.values():
                runner.stop(timeout)
        _supervisors.discard(self)

    def _watch(self) -> None:
        while not self._stop.wait(self.check_s):
            try:
                self.check()
            except Exception:
                logger.exception("feed watchdog check failed")

    def check(self) -> list[str]:
        """Restart every runner whose thread died or that has been silent too long."""
        restarted: list[str] = []
        with self._lock:
            if self._stop.is_set():
                return restarted
            for watcher in self.watchers:
                if watcher() is not None:
                    restarted.append("simulator")
            for exchange, runner in list(self.runners.items()):
                reason = self._dead_reason(runner)
                if reason is None:
                    continue
                logger.error("%s feed %s: restarting", exchange, reason)
                runner.kill()
                runner.stop(timeout=1.0)
                # The dead runner's lease is still held until its TTL: the new one takes it over.
                config = replace(self.configs[exchange])
                fresh = FeedRunner(config)
                fresh.lease.owner = runner.lease.owner
                self.runners[exchange] = fresh.start()
                self.restarts += 1
                metrics.feed_restarts.labels(exchange).inc()
                restarted.append(exchange)
        return restarted

    def _dead_reason(self, runner: FeedRunner) -> str | None:
        if not runner.is_alive():
            return "thread is dead"
        if runner.state == "standby":
            return None
        now = time.monotonic()
        silent = now - runner.last_alive
        if silent > self.stale_s * 3:
            return f"silent for {silent:.1f}s"
        for loop_name, beat in runner.beats.items():  # the candle flush and the push loop
            if now - beat > self.stale_s * 3:
                return f"{loop_name} loop silent for {now - beat:.1f}s"
        return None


def supervisors_check_all() -> list[str]:
    restarted: list[str] = []
    for supervisor in list(_supervisors):
        restarted += supervisor.check()
    return restarted


def supervisors_all() -> list[FeedSupervisor]:
    return list(_supervisors)
