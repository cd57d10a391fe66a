"""One place that turns a refused real-trading attempt into audit + metric + alert.

Every layer calls ``violation_refuse`` and raises what it returns. The audit write must
work from sync code and from inside an event loop (the transport guard runs in aiohttp),
where Django forbids the ORM: there it runs in a short-lived thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from apps.safety.alerts import safety_alert_raise
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.metrics import SAFETY_VIOLATIONS

logger = logging.getLogger("apps.safety.violations")

# Layer names, also the `layer` label of ptp_safety_violations_total.
LAYER_ENVIRONMENT = "environment"
LAYER_FACTORY = "factory"
LAYER_TRANSPORT = "transport"
LAYER_KEYS = "api_keys"
LAYER_GUARD = "paper_guard"
LAYER_MIDDLEWARE = "middleware"


def _outside_event_loop(fn: Callable[[], Any]) -> None:
    try:
        asyncio.get_running_loop()
        in_loop = True
    except RuntimeError:
        in_loop = False
    if not in_loop:
        fn()
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=run, name="safety-audit", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _audit_refusal(*, layer: str, message: str, detail: dict[str, Any], audit: dict[str, Any]) -> None:
    from apps.safety.audit import audit_record
    from apps.safety.models import AuditEvent

    category = audit.pop("category", AuditEvent.Category.SAFETY)
    action = audit.pop("action", f"refused_{layer}")
    audit_record(
        category=category,
        action=action[:64],
        result=AuditEvent.Result.REFUSED,
        message=message,
        data={"layer": layer, **detail},
        **audit,
    )


def violation_refuse(
    *,
    layer: str,
    message: str,
    detail: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
) -> RealTradingAttemptError:
    """Record the refusal (audit, metric, alert) and return the error for the caller to raise.

    ``audit`` holds extra audit_record keywords (actor, source_ip, exchange, symbol,
    portfolio_id, category, action). The refusal stands even if the audit write fails.
    """
    detail = dict(detail or {})
    message = message.replace("\x00", "\\0")  # PostgreSQL text cannot hold NUL
    error = RealTradingAttemptError(message, layer=layer, detail=detail)
    SAFETY_VIOLATIONS.labels(layer=layer).inc()
    try:
        audit_kwargs = dict(audit or {})
        _outside_event_loop(
            lambda: _audit_refusal(layer=layer, message=error.message, detail=detail, audit=audit_kwargs)
        )
    except Exception:  # refusing matters more than recording; the log keeps it
        logger.exception("safety: could not audit a refusal (%s): %s", layer, message)
    try:
        # Subscribers (ops alerting) may use the ORM too, so they also run off the loop.
        _outside_event_loop(lambda: safety_alert_raise(layer=layer, message=error.message, detail=detail))
    except Exception:
        logger.exception("safety: could not raise the alert (%s): %s", layer, message)
    return error
