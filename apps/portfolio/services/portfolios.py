"""Creating and resetting portfolios. Starting balances enter through balanced deposits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.core.money import to_decimal
from apps.portfolio.errors import name_taken_error
from apps.portfolio.models import Order, Portfolio, Position
from apps.portfolio.order_request import actor_label_for
from apps.portfolio.services.execution import equity_snapshot_record
from apps.portfolio.services.ledger import CAPITAL_ACCOUNT, FREE, LOCKED, Posting, balances_lock
from apps.safety.audit import audit_record

DEFAULT_BALANCES = {"USDT": "10000"}


def _parse_balances(starting_balances: dict[str, Any]) -> dict[str, Decimal]:
    parsed: dict[str, Decimal] = {}
    for asset, raw in starting_balances.items():
        try:
            amount = to_decimal(raw, field=asset)
        except ValueError as error:
            raise ApplicationError(
                str(error), code="invalid_balance", fields={"starting_balances": [str(error)]}
            ) from None
        if amount < 0:
            message = f"{asset}: a starting balance cannot be negative"
            raise ApplicationError(message, code="invalid_balance", fields={"starting_balances": [message]})
        parsed[str(asset).upper()] = amount
    return parsed


def portfolio_create(
    *,
    owner: Any,
    name: str,
    exchange: str = "binance",
    quote_asset: str = "USDT",
    starting_balances: dict[str, Any] | None = None,
    maker_fee_rate: Decimal | str = "0.001",
    taker_fee_rate: Decimal | str = "0.001",
    fee_discount: bool = False,
    latency_ms: int = 250,
    latency_jitter_ms: int = 50,
    max_slippage_bps: Decimal | str = "500",
    seed: int = 0,
) -> Portfolio:
    balances = _parse_balances(starting_balances if starting_balances is not None else DEFAULT_BALANCES)
    if Portfolio.objects.filter(owner=owner, name=name).exists():
        raise name_taken_error()
    try:
        return _create(
            owner=owner,
            name=name,
            exchange=exchange,
            quote_asset=quote_asset,
            balances=balances,
            maker_fee_rate=maker_fee_rate,
            taker_fee_rate=taker_fee_rate,
            fee_discount=fee_discount,
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            max_slippage_bps=max_slippage_bps,
            seed=seed,
        )
    except IntegrityError:
        # Two creates of one name at once: the unique constraint decides, and says it in words.
        if Portfolio.objects.filter(owner=owner, name=name).exists():
            raise name_taken_error() from None
        raise


def _create(
    *,
    owner: Any,
    name: str,
    exchange: str,
    quote_asset: str,
    balances: dict[str, Decimal],
    maker_fee_rate: Decimal | str,
    taker_fee_rate: Decimal | str,
    fee_discount: bool,
    latency_ms: int,
    latency_jitter_ms: int,
    max_slippage_bps: Decimal | str,
    seed: int,
) -> Portfolio:
    with transaction.atomic():
        portfolio = Portfolio.objects.create(
            owner=owner,
            name=name,
            exchange=exchange,
            quote_asset=quote_asset.upper(),
            starting_balances={asset: str(amount) for asset, amount in balances.items()},
            maker_fee_rate=to_decimal(maker_fee_rate),
            taker_fee_rate=to_decimal(taker_fee_rate),
            fee_discount=fee_discount,
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            max_slippage_bps=to_decimal(max_slippage_bps),
            seed=seed,
        )
        _deposit(portfolio=portfolio, balances=balances, memo="starting balance")
        audit_record(
            category="config",
            action="portfolio.create",
            actor=owner,
            portfolio_id=portfolio.pk,
            exchange=exchange,
            message=f"portfolio {name}",
            data={"starting_balances": portfolio.starting_balances},
        )
    return portfolio


def _deposit(*, portfolio: Portfolio, balances: dict[str, Decimal], memo: str) -> None:
    posting = Posting(portfolio=portfolio, balances=balances_lock(portfolio=portfolio))
    moves = []
    for asset, amount in balances.items():
        moves += [(asset, CAPITAL_ACCOUNT, -amount), (asset, FREE, amount)]
    posting.post(kind="deposit", moves=moves, memo=memo)
    posting.flush()
    equity_snapshot_record(portfolio=portfolio, reason="reset")


def portfolio_reset(*, portfolio: Portfolio, actor: Any, confirm: bool = False) -> Portfolio:
    """Cancel every open order, withdraw every balance and deposit the starting balances
    again. The history (orders, fills, ledger) is kept; positions start over."""
    if not confirm:
        raise ApplicationError(
            "Resetting a portfolio needs confirmation.", code="confirmation_required", fields={"confirm": ["required"]}
        )
    from apps.portfolio.services.execution import after_commit

    with transaction.atomic():
        locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
        open_orders = list(Order.objects.select_for_update().filter(portfolio=locked, status__in=Order.OPEN_STATUSES))
        posting = Posting(portfolio=locked, balances=balances_lock(portfolio=locked))
        for order in open_orders:
            order.status = Order.Status.CANCELED
            order.reason = "portfolio reset"
        moves = []
        for asset, balance in posting.balances.items():
            moves += [(asset, FREE, -balance.free), (asset, LOCKED, -balance.locked)]
            moves += [(asset, CAPITAL_ACCOUNT, balance.free + balance.locked)]
        posting.post(kind="reset", moves=moves, memo="reset: withdraw everything")
        for asset, amount in _parse_balances(locked.starting_balances).items():
            posting.post(kind="deposit", moves=[(asset, CAPITAL_ACCOUNT, -amount), (asset, FREE, amount)], memo="reset")
        posting.flush()
        for order in open_orders:
            order.locked_amount = Decimal("0")
            order.save(update_fields=["status", "reason", "locked_amount", "updated_at"])
            after_commit(order=order, event="cancel", fills=[])
        Position.objects.filter(portfolio=locked).delete()
        locked.reset_at = timezone.now()
        locked.save(update_fields=["reset_at"])
        equity_snapshot_record(portfolio=locked, reason="reset")
        audit_record(
            category="config",
            action="portfolio.reset",
            actor=actor,
            actor_label=actor_label_for(actor),
            portfolio_id=locked.pk,
            exchange=locked.exchange,
            message=f"reset, {len(open_orders)} open orders canceled",
            data={"starting_balances": locked.starting_balances},
        )
    return locked
