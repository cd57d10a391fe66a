"""In-process beat for embedded mode: runs CELERY_BEAT_SCHEDULE in a daemon thread.

In production `celery beat` reads the same schedule (django-celery-beat). Here tasks run
eagerly (CELERY_TASK_ALWAYS_EAGER), so the same task code executes in this process.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from celery.schedules import maybe_schedule

logger = logging.getLogger(__name__)


class EmbeddedBeat:
    def __init__(self, *, schedule: dict[str, dict[str, object]], tick_seconds: float = 1.0):
        self._entries = {name: maybe_schedule(entry["schedule"]) for name, entry in schedule.items()}
        self._tasks = {name: str(entry["task"]) for name, entry in schedule.items()}
        self._args = {name: tuple(entry.get("args", ())) for name, entry in schedule.items()}  # type: ignore[arg-type]
        self._last_run: dict[str, datetime] = {}
        self._tick = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="embedded-beat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every entry that is due; returns their names (used by tests)."""
        from config.celery import app

        app.loader.import_default_modules()  # autodiscovery is lazy; make sure tasks are registered
        now = now or datetime.now(UTC)
        ran = []
        for name, schedule in self._entries.items():
            last = self._last_run.get(name)
            if last is not None and not schedule.is_due(last).is_due:
                continue
            self._last_run[name] = now
            task = app.tasks.get(self._tasks[name])
            if task is None:
                logger.warning("embedded beat: task %s not registered", self._tasks[name])
                continue
            try:
                task.apply_async(args=self._args[name])
                ran.append(name)
            except Exception:
                logger.exception("embedded beat: %s failed", name)
        return ran

    def _run(self) -> None:
        while not self._stop.wait(self._tick):
            self.run_due()
