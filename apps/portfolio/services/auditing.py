"""Audit rows for one order event written in a single insert.

Same fields as ``apps.safety.audit.audit_record`` (which writes one row per call); an order
with several fills would otherwise pay one round trip per row on the hot path.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.core.logging import request_id_var
from apps.safety.models import AuditEvent

logger = logging.getLogger("apps.safety.audit")


class AuditBatch:
    def __init__(
        self, *, actor: Any, actor_label: str, source_ip: str | None = None, request_id: str | None = None
    ) -> None:
        self.user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        self.actor_label = actor_label or (self.user.get_username() if self.user else "")
        self.source_ip = source_ip
        # Taken by the caller's thread: with group commit another thread may write the rows.
        current = request_id if request_id is not None else request_id_var.get()
        self.request_id = current if current != "-" else ""
        self.events: list[AuditEvent] = []

    def add(
        self, *, category: str, action: str, portfolio_id: int, exchange: str, symbol: str, message: str, data: dict
    ) -> None:
        self.events.append(
            AuditEvent(
                category=category,
                action=action,
                result=AuditEvent.Result.OK,
                actor=self.user,
                actor_label=self.actor_label[:150],
                source_ip=self.source_ip,
                request_id=self.request_id,
                portfolio_id=portfolio_id,
                exchange=exchange,
                symbol=symbol[:32],
                message=message,
                data=data,
            )
        )

    def flush(self) -> None:
        if self.events:
            AuditEvent.objects.bulk_create(self.events)
            for event in self.events:
                audit_logged(event)
            self.events = []


def audit_logged(event: AuditEvent) -> None:
    """The log line ``audit_record`` writes for each event."""
    logger.info("audit %s/%s ok %s", event.category, event.action, event.message)
