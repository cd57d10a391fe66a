"""Audit rows of one order event: the model's columns, written in one insert, each logged."""

from __future__ import annotations

import logging

import pytest

from apps.core.logging import request_id_var
from apps.portfolio.services.auditing import AUDIT_ROW_COLUMNS, AuditBatch
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


def _add(batch: AuditBatch, action: str) -> None:
    batch.add(
        category="order", action=action, portfolio_id=7, exchange="binance", symbol="BTCUSDT", message=action, data={}
    )


def test_rows_carry_every_column_and_are_written_once_with_a_log_line(user, caplog):
    batch = AuditBatch(actor=user, actor_label="", source_ip="10.0.0.1", request_id="req-1")
    _add(batch, "order_placed")
    _add(batch, "fill")
    assert all(set(row) == AUDIT_ROW_COLUMNS for row in batch.events)
    with caplog.at_level(logging.INFO, logger="apps.safety.audit"):
        batch.flush()
        batch.flush()  # nothing left: writes nothing again
    events = list(AuditEvent.objects.filter(portfolio_id=7).order_by("id"))
    assert [(e.action, e.actor_id, e.actor_label, e.request_id) for e in events] == [
        ("order_placed", user.pk, "trader", "req-1"),
        ("fill", user.pk, "trader", "req-1"),
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "audit order/order_placed ok order_placed",
        "audit order/fill ok fill",
    ]


def test_a_system_actor_keeps_its_label_and_the_callers_request_id():
    token = request_id_var.set("from-the-request")
    try:
        batch = AuditBatch(actor=None, actor_label="matcher")
    finally:
        request_id_var.reset(token)
    _add(batch, "trigger")
    assert (batch.events[0]["actor_id"], batch.events[0]["actor_label"]) == (None, "matcher")
    assert batch.events[0]["request_id"] == "from-the-request"
    assert AuditBatch(actor=None, actor_label="x", request_id="-").request_id == ""
