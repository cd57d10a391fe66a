"""Why an order ended short, in words a trader can act on (pure)."""

from __future__ import annotations

from decimal import Decimal

from apps.portfolio.fills import BUY, STOP_LIMIT_PRICE, STOP_SLIPPAGE_CAP, Execution


def _plain(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f}"


def expiry_reason(*, execution: Execution, requested: Decimal | None, max_slippage_bps: Decimal | None) -> str:
    """Why a market order ended short, for the trader: how much of what was asked filled,
    and what stopped the walk."""
    asked = f" of {_plain(requested)}" if requested is not None else ""
    filled = f"Filled {_plain(execution.quantity)}{asked}"
    if execution.stopped_by == STOP_SLIPPAGE_CAP:
        return f"{filled}: the rest would fill beyond the portfolio's slippage cap of {_plain(max_slippage_bps)} bps."
    if execution.stopped_by == STOP_LIMIT_PRICE:
        return f"{filled}: the rest is beyond the order's price limit."
    book_side = "ask" if execution.side == BUY else "bid"
    rest = f" ({_plain(requested - execution.quantity)})" if requested is not None else ""
    return f"{filled}: the {execution.levels} visible {book_side} levels held no more; the rest{rest} expired."
