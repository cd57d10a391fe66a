"""Changing and deleting portfolios (creating and resetting: services/portfolios.py).

Balances are not editable here: they change only through orders and resets, so the ledger
stays the one explanation of every amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.money import to_decimal
from apps.portfolio.errors import name_taken_error
from apps.portfolio.models import Order, Portfolio
from apps.safety.audit import audit_record

# The settings a portfolio may change after creation; exchange, quote asset and starting
# balances define what its history means, so they stay fixed.
UPDATABLE_FIELDS = (
    "name",
    "maker_fee_rate",
    "taker_fee_rate",
    "fee_discount",
    "latency_ms",
    "latency_jitter_ms",
    "max_slippage_bps",
    "queue_position_model",
)
_DECIMAL_FIELDS = {"maker_fee_rate", "taker_fee_rate", "max_slippage_bps"}


def _actor_label(actor: Any) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else str(actor or "")[:150]


def _name_check(*, portfolio: Portfolio, name: str) -> str:
    name = name.strip()
    if not name:
        raise ApplicationError("name: may not be blank.", code="invalid", fields={"name": ["May not be blank."]})
    taken = Portfolio.objects.filter(owner_id=portfolio.owner_id, name=name).exclude(pk=portfolio.pk).exists()
    if taken:
        raise name_taken_error()
    return name


def _coerce(name: str, value: Any) -> Any:
    return to_decimal(value, field=name) if name in _DECIMAL_FIELDS else value


def portfolio_update(
    *,
    portfolio: Portfolio,
    actor: Any,
    name: str | None = None,
    maker_fee_rate: Decimal | str | None = None,
    taker_fee_rate: Decimal | str | None = None,
    fee_discount: bool | None = None,
    latency_ms: int | None = None,
    latency_jitter_ms: int | None = None,
    max_slippage_bps: Decimal | str | None = None,
    queue_position_model: bool | None = None,
) -> Portfolio:
    """Change the given settings (None leaves a field as it is). New settings apply to
    orders placed from now on; the change is audited with the old and new values."""
    requested: dict[str, Any] = {
        "name": name,
        "maker_fee_rate": maker_fee_rate,
        "taker_fee_rate": taker_fee_rate,
        "fee_discount": fee_discount,
        "latency_ms": latency_ms,
        "latency_jitter_ms": latency_jitter_ms,
        "max_slippage_bps": max_slippage_bps,
        "queue_position_model": queue_position_model,
    }
    with transaction.atomic():
        # The row lock orders this change after (or before) any order being placed, which
        # reads the fee and latency settings under the same lock.
        locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
        changes: dict[str, dict[str, str]] = {}
        for field, value in requested.items():
            if value is None:
                continue
            value = _name_check(portfolio=locked, name=value) if field == "name" else _coerce(field, value)
            old = getattr(locked, field)
            if old != value:
                changes[field] = {"from": str(old), "to": str(value)}
                setattr(locked, field, value)
        if changes:
            locked.save(update_fields=list(changes))
            audit_record(
                category="config",
                action="portfolio.update",
                actor=actor,
                actor_label=_actor_label(actor),
                portfolio_id=locked.pk,
                exchange=locked.exchange,
                message=f"changed {', '.join(sorted(changes))}",
                data={"changes": changes},
            )
    return locked


def portfolio_delete(*, portfolio: Portfolio, actor: Any) -> None:
    """Delete the portfolio with its whole history (ledger, orders, fills, stopped bots).
    Refused (409) while one of its bots is running or one of its orders is open: those would
    otherwise vanish mid-flight. The audit record outlives the portfolio."""
    with transaction.atomic():
        locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
        # Bots build on portfolios, not the reverse: their rows are reached through the
        # relation that apps.bots declares (Bot.portfolio, related_name "bots"), not an import.
        running = locked.bots.select_for_update().filter(status="running").count()
        if running:
            raise ConflictError(
                f"Stop the portfolio's {running} running bot(s) before deleting it.", code="portfolio_has_running_bots"
            )
        open_orders = Order.objects.filter(portfolio=locked, status__in=Order.OPEN_STATUSES).count()
        if open_orders:
            raise ConflictError(
                f"Cancel the portfolio's {open_orders} open order(s) before deleting it.",
                code="portfolio_has_open_orders",
            )
        audit_record(
            category="config",
            action="portfolio.delete",
            actor=actor,
            actor_label=_actor_label(actor),
            portfolio_id=locked.pk,
            exchange=locked.exchange,
            message=f"deleted portfolio {locked.name}",
            data={
                "name": locked.name,
                "starting_balances": locked.starting_balances,
                "orders": Order.objects.filter(portfolio=locked).count(),
            },
        )
        locked.delete()
