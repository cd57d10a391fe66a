"""P&L and performance maths (pure, Decimal). Average-cost positions; metrics over equity series."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class PositionState:
    quantity: Decimal = ZERO
    avg_cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees_paid: Decimal = ZERO  # in quote
    closed_trades: int = 0
    winning_trades: int = 0
    gross_profit: Decimal = ZERO
    gross_loss: Decimal = ZERO


def position_apply_fill(
    state: PositionState, *, side: str, quantity: Decimal, price: Decimal, fee: Decimal, fee_in_base: bool
) -> PositionState:
    """Average cost: a buy blends its cost (fees included) into the average; a sell realizes
    (price - avg cost) on the part of the position it closes, minus its fee."""
    fee_quote = fee * price if fee_in_base else fee
    if side == "buy":
        received = quantity - fee if fee_in_base else quantity
        new_qty = state.quantity + received
        cost = state.quantity * state.avg_cost + quantity * price
        avg = cost / new_qty if new_qty > 0 else ZERO
        return replace(state, quantity=new_qty, avg_cost=avg, fees_paid=state.fees_paid + fee_quote)
    closing = min(quantity, max(state.quantity, ZERO))
    # Selling more than the tracked position (e.g. a starting balance): no known cost, no P&L.
    pnl = (price - state.avg_cost) * closing - fee_quote
    new_qty = state.quantity - closing
    return replace(
        state,
        quantity=new_qty,
        avg_cost=state.avg_cost if new_qty > 0 else ZERO,
        realized_pnl=state.realized_pnl + pnl,
        fees_paid=state.fees_paid + fee_quote,
        closed_trades=state.closed_trades + 1,
        winning_trades=state.winning_trades + (1 if pnl > 0 else 0),
        gross_profit=state.gross_profit + max(pnl, ZERO),
        gross_loss=state.gross_loss + max(-pnl, ZERO),
    )


def unrealized_pnl(*, quantity: Decimal, avg_cost: Decimal, mark: Decimal | None) -> Decimal:
    if mark is None or quantity <= 0:
        return ZERO
    return (mark - avg_cost) * quantity


def total_return(equity: Sequence[Decimal]) -> Decimal | None:
    if len(equity) < 1 or not equity[0]:
        return None
    return equity[-1] / equity[0] - 1


def max_drawdown(equity: Sequence[Decimal]) -> Decimal:
    """Largest peak-to-trough fall as a fraction of the peak (0.25 = -25 %)."""
    peak, worst = None, ZERO
    for value in equity:
        peak = value if peak is None or value > peak else peak
        if peak and peak > 0:
            worst = max(worst, (peak - value) / peak)
    return worst


def _returns(equity: Sequence[Decimal]) -> list[float]:
    return [float(b / a - 1) for a, b in zip(equity, equity[1:], strict=False) if a]


def sharpe_ratio(equity: Sequence[Decimal], *, periods_per_year: float = 1.0) -> float | None:
    """Mean over standard deviation of per-period returns (risk-free 0), annualised by sqrt(n)."""
    returns = _returns(equity)
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    if var <= 0:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def sortino_ratio(equity: Sequence[Decimal], *, periods_per_year: float = 1.0) -> float | None:
    """Like Sharpe but only downside deviation (returns below 0) counts as risk."""
    returns = _returns(equity)
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if downside <= 0:
        return None
    return mean / downside * math.sqrt(periods_per_year)


def win_rate(*, wins: int, trades: int) -> Decimal | None:
    return Decimal(wins) / Decimal(trades) if trades else None


def profit_factor(*, gross_profit: Decimal, gross_loss: Decimal) -> Decimal | None:
    return gross_profit / gross_loss if gross_loss > 0 else None
