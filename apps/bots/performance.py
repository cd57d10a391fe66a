"""Backtest performance figures (pure). The maths is the portfolio app's (``apps.portfolio.pnl``)
so a backtest and a paper portfolio report the same numbers for the same equity curve."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from apps.portfolio import pnl

ZERO = Decimal("0")
YEAR_MS = 365 * 86_400_000
Q8 = Decimal("0.00000001")
Q4 = Decimal("0.0001")


def _pct(value: Decimal | None, q: Decimal = Q4) -> str | None:
    return None if value is None else str((value * 100).quantize(q))


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def equity_metrics(equity: Sequence[Decimal], equity_f: Sequence[float], *, timeframe_ms: int) -> dict[str, object]:
    """Total return, max drawdown (percent strings, Decimal), annualised Sharpe/Sortino from
    per-candle returns (``equity_f``: the same curve as floats)."""
    periods = YEAR_MS / timeframe_ms
    return {
        "total_return_pct": _pct(pnl.total_return(equity)),
        "max_drawdown_pct": _pct(pnl.max_drawdown(equity)),
        "sharpe": _ratio(pnl.sharpe_ratio(equity_f, periods_per_year=periods)),  # type: ignore[arg-type]
        "sortino": _ratio(pnl.sortino_ratio(equity_f, periods_per_year=periods)),  # type: ignore[arg-type]
    }


def trade_stats(pnls: Sequence[Decimal]) -> dict[str, object]:
    """Win rate and profit factor over closed round trips (one P&L per exit)."""
    wins = [p for p in pnls if p > 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum((p for p in pnls if p < 0), ZERO)
    factor = pnl.profit_factor(gross_profit=gross_profit, gross_loss=gross_loss)
    return {
        "closed_trades": len(pnls),
        "winning_trades": len(wins),
        "win_rate_pct": _pct(pnl.win_rate(wins=len(wins), trades=len(pnls)), Decimal("0.01")),
        "gross_profit": str(gross_profit.quantize(Q8)),
        "gross_loss": str(gross_loss.quantize(Q8)),
        "profit_factor": None if factor is None else str(factor.quantize(Q4)),
    }
