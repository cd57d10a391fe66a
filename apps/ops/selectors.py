"""Reads: the readiness report and the audit trail search."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.ops.health import HealthReport, registry
from apps.safety.models import AuditEvent


def health_report_get(*, names: list[str] | None = None) -> HealthReport:
    return registry.run(names)


def audit_event_search(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: int | None = None,
    portfolio_id: int | None = None,
    symbol: str = "",
    action: str = "",
    category: str = "",
    result: str = "",
) -> QuerySet[AuditEvent]:
    """The audit trail filtered by time, user, portfolio, symbol and action (all optional)."""
    events = AuditEvent.objects.select_related("actor")
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if user_id is not None:
        events = events.filter(actor_id=user_id)
    if portfolio_id is not None:
        events = events.filter(portfolio_id=portfolio_id)
    if symbol:
        events = events.filter(symbol=symbol.upper())
    if action:
        events = events.filter(action=action)
    if category:
        events = events.filter(category=category)
    if result:
        events = events.filter(result=result)
    return events.order_by("-created_at", "-id")
