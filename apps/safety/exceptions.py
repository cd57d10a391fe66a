"""The two errors the safety layer raises. Each carries enough to audit and to explain."""

from __future__ import annotations

from typing import Any

from apps.core.exceptions import ApplicationError


class RealTradingAttemptError(ApplicationError):
    """Something tried to reach a real exchange's trading surface. Always refused (403)."""

    status = 403
    code = "real_trading_refused"

    def __init__(self, message: str, *, layer: str, detail: dict[str, Any] | None = None):
        super().__init__(f"REAL TRADING REFUSED ({layer}): {message}")
        self.layer = layer
        self.detail = detail or {}


class UnsafeEnvironmentError(RuntimeError):
    """The environment is not paper-only. Names the variable, the expected and actual value."""

    def __init__(self, *, variable: str, expected: str, actual: str):
        super().__init__(f"UnsafeEnvironmentError: {variable} must be {expected}, got {actual}")
        self.variable = variable
        self.expected = expected
        self.actual = actual
