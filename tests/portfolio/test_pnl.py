"""P&L maths (pure), with hand-computed values."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.portfolio import pnl


def test_average_cost_buys_and_sells():
    state = pnl.PositionState()
    state = pnl.position_apply_fill(state, side="buy", quantity=D("1"), price=D("100"), fee=D("0"), fee_in_base=True)
    state = pnl.position_apply_fill(state, side="buy", quantity=D("1"), price=D("110"), fee=D("0"), fee_in_base=True)
    assert (state.quantity, state.avg_cost) == (D("2"), D("105"))
    state = pnl.position_apply_fill(
        state, side="sell", quantity=D("1"), price=D("120"), fee=D("0.12"), fee_in_base=False
    )
    # (120 - 105) * 1 - 0.12
    assert state.realized_pnl == D("14.88") and state.quantity == D("1") and state.avg_cost == D("105")
    state = pnl.position_apply_fill(state, side="sell", quantity=D("1"), price=D("100"), fee=D("0"), fee_in_base=False)
    assert state.realized_pnl == D("9.88") and state.quantity == 0
    assert (state.closed_trades, state.winning_trades) == (2, 1)
    assert (state.gross_profit, state.gross_loss) == (D("14.88"), D("5"))


def test_fee_in_base_reduces_the_position_and_counts_in_cost():
    state = pnl.position_apply_fill(
        pnl.PositionState(), side="buy", quantity=D("2"), price=D("100"), fee=D("0.002"), fee_in_base=True
    )
    assert state.quantity == D("1.998")
    assert state.avg_cost == D("200") / D("1.998")
    assert state.fees_paid == D("0.2")


def test_unrealized_marked_to_mid():
    assert pnl.unrealized_pnl(quantity=D("2"), avg_cost=D("100"), mark=D("103.5")) == D("7")
    assert pnl.unrealized_pnl(quantity=D("2"), avg_cost=D("100"), mark=None) == 0


def test_series_metrics():
    equity = [D("100"), D("110"), D("99"), D("120"), D("90")]
    assert pnl.total_return(equity) == D("-0.1")
    assert pnl.max_drawdown(equity) == D("0.25")  # 120 -> 90
    returns = [0.1, -0.1, 120 / 99 - 1, -0.25]
    mean = sum(returns) / 4
    sd = (sum((r - mean) ** 2 for r in returns) / 3) ** 0.5
    assert pnl.sharpe_ratio(equity) == pytest.approx(mean / sd)
    downside = ((0.1**2 + 0.25**2) / 4) ** 0.5
    assert pnl.sortino_ratio(equity) == pytest.approx(mean / downside)
    assert pnl.sharpe_ratio([D("1")]) is None
    assert pnl.win_rate(wins=3, trades=4) == D("0.75")
    assert pnl.profit_factor(gross_profit=D("30"), gross_loss=D("10")) == D("3")
    assert pnl.profit_factor(gross_profit=D("30"), gross_loss=D("0")) is None
