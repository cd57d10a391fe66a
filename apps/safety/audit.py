"""Writing to the audit log: the one function every layer calls."""

from __future__ import annotations

import logging
from typing import Any

from apps.core.logging import request_id_var
from apps.safety.models import AuditEvent

logger = logging.getLogger("apps.safety.audit")


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL; user input may contain it. Keep it visible."""
    if isinstance(value, str):
        return value.replace("\x00", "\\0")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def audit_record(
    *,
    category: str,
    action: str,
    result: str = AuditEvent.Result.OK,
    actor: Any = None,
    actor_label: str = "",
    source_ip: str | None = None,
    portfolio_id: int | None = None,
    exchange: str = "",
    symbol: str = "",
    message: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Runs inside the caller's transaction, so an order and its audit
    record commit or roll back together; refusals are written by the caller outside it."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = AuditEvent.objects.create(
        category=category,
        action=action,
        result=result,
        actor=user,
        actor_label=_without_nul(actor_label or (user.get_username() if user else ""))[:150],
        source_ip=source_ip,
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
        portfolio_id=portfolio_id,
        exchange=_without_nul(exchange)[:16],
        symbol=_without_nul(symbol)[:32],
        message=_without_nul(message),
        data=_without_nul(data or {}),
    )
    logger.info("audit %s/%s %s %s", category, action, result, message)
    return event
