"""Per-process rotating log files.

Several processes must never share one rotating file: each would rotate it under the others
(records lost, files truncated, ``.1`` overwritten). So every process gets its own file,
named after LOG_FILE: ``app.json`` becomes ``app.<role>.json`` for the process that set up
logging (web, beat, feeds, monitor, the Celery worker's main process) and
``app.<role>.<pid>.json`` in a process forked from it (the worker's prefork children). A
forked child notices on its first record and opens its own file; the inherited stream of
its parent is closed without touching the parent's file. Rotation is by size, per file.
See docs/OPERATIONS.md "Logs".
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path


def log_file_path(base: str | os.PathLike[str], *, role: str, pid: int | None = None) -> Path:
    path = Path(base)
    suffix = path.suffix or ".log"
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    parts = [stem, role] + ([str(pid)] if pid is not None else [])
    return path.with_name(".".join(parts) + suffix)


class ProcessRotatingFileHandler(RotatingFileHandler):
    def __init__(self, filename: str, *, role: str, maxBytes: int = 0, backupCount: int = 0) -> None:
        self.base_filename = filename
        self.role = role
        self.owner_pid = os.getpid()
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            log_file_path(filename, role=role), maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8"
        )

    def emit(self, record: logging.LogRecord) -> None:
        if os.getpid() != self.owner_pid:
            self._reopen_for_this_process()
        super().emit(record)

    def _reopen_for_this_process(self) -> None:
        self.acquire()
        try:
            if self.stream is not None:
                self.stream.close()  # this process's copy of the parent's descriptor
                self.stream = None  # type: ignore[assignment]
            self.owner_pid = os.getpid()
            self.baseFilename = os.path.abspath(log_file_path(self.base_filename, role=self.role, pid=self.owner_pid))
        finally:
            self.release()
