"""Audit rows for one order event written in a single insert.

Same fields as ``apps.safety.audit.audit_record`` (which writes one row per call); an order
with several fills would otherwise pay one round trip per row on the hot path. Events are
kept as plain rows (column -> value) until written: the order hot path sends them as JSON
(fastpath.py), the ORM path builds the models in ``flush``.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.core.logging import request_id_var
from apps.safety.models import AuditEvent

logger = logging.getLogger("apps.safety.audit")

AuditRow = dict[str, Any]  # AuditEvent's columns except id and created_at
# The keys of every AuditRow: the model's columns (tests hold ``AuditBatch.add`` to them).
AUDIT_ROW_COLUMNS = frozenset(field.attname for field in AuditEvent._meta.concrete_fields) - {"id", "created_at"}


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
        self.events: list[AuditRow] = []

    def add(
        self, *, category: str, action: str, portfolio_id: int, exchange: str, symbol: str, message: str, data: dict
    ) -> None:
        self.events.append(
            {
                "category": category,
                "action": action,
                "result": AuditEvent.Result.OK.value,
                "actor_id": self.user.pk if self.user is not None else None,
                "actor_label": self.actor_label[:150],
                "source_ip": self.source_ip,
                "request_id": self.request_id,
                "portfolio_id": portfolio_id,
                "exchange": exchange,
                "symbol": symbol[:32],
                "message": message,
                "data": data,
            }
        )

    def flush(self) -> None:
        if self.events:
            AuditEvent.objects.bulk_create([AuditEvent(**row) for row in self.events])
            for row in self.events:
                audit_logged(row)
            self.events = []


def audit_logged(row: AuditRow) -> None:
    """The log line ``audit_record`` writes for each event."""
    logger.info("audit %s/%s ok %s", row["category"], row["action"], row["message"])
