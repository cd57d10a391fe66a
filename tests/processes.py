"""Helpers for the tests that run the product in child processes."""

from __future__ import annotations

import subprocess


def process_stop(proc: subprocess.Popen, *, grace_s: float = 15) -> None:
    """SIGTERM, as an operator or a supervisor stops a process; SIGKILL if it is not gone in
    ``grace_s`` (a test must never leave a server behind)."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
