"""The paper-trading guard: the order service calls it first, the middleware calls it for
every trading HTTP request. A refused request is audited, counted and alerted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.models import AuditEvent
from apps.safety.paper_rules import paper_violations, redact_payload
from apps.safety.violations import LAYER_GUARD, violation_refuse


def _actor_label(actor: Any) -> str:
    if actor is None:
        return ""
    if getattr(actor, "is_authenticated", False):
        return ""  # audit_record takes the user name
    return redact_payload(actor[:150]) if isinstance(actor, str) else ""


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number is not None and -(2**63) < number < 2**63 else None


def paper_trade_guard(
    *, payload: Mapping[str, Any], actor: Any, source: str, source_ip: str | None = None, layer: str = LAYER_GUARD
) -> None:
    """Raise RealTradingAttemptError unless ``payload`` is a plain paper-trade request.

    ``actor`` is a user, a bot label (str) or None; ``source`` says where the request came
    from (api, form, bot, admin, http...). Accepted requests are not audited here: the
    order service records the order itself in the same transaction.
    """
    violations = paper_violations(payload)
    if not violations:
        return
    fields = {violation.field or "non_field_errors": [violation.reason] for violation in violations}
    first = violations[0]
    message = f"{first.field + ': ' if first.field else ''}{first.reason}"
    if len(violations) > 1:
        message += f" (and {len(violations) - 1} more)"
    is_mapping = isinstance(payload, Mapping)
    symbol = redact_payload(str(payload.get("symbol", ""))[:32]) if is_mapping else ""
    exchange = redact_payload(str(payload.get("exchange", ""))[:16]) if is_mapping else ""
    error: RealTradingAttemptError = violation_refuse(
        layer=layer,
        message=message,
        detail={"source": source, "fields": redact_payload(fields), "payload": redact_payload(payload)},
        audit={
            "category": AuditEvent.Category.TRADE_ATTEMPT,
            "action": f"trade_refused_{source}",
            "actor": actor if getattr(actor, "is_authenticated", False) else None,
            "actor_label": _actor_label(actor),
            "source_ip": source_ip,
            "portfolio_id": _int_or_none(payload.get("portfolio_id", payload.get("portfolio"))) if is_mapping else None,
            "symbol": symbol,
            "exchange": exchange,
        },
    )
    raise error
