"""Reads: equity, positions with unrealized P&L, performance metrics, CSV export rows."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Avg, QuerySet

from apps.core.money_db import MoneySum
from apps.market.models import Instrument
from apps.portfolio import books, pnl
from apps.portfolio.models import Balance, EquitySnapshot, Fill, Order, Portfolio, Position

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class EquityValue:
    cash: Decimal
    positions_value: Decimal
    equity: Decimal
    unpriced: tuple[str, ...]  # assets held with no live price (valued at 0)


def _mark(portfolio: Portfolio, asset: str, positions: dict[str, Position]) -> Decimal | None:
    symbol = f"{asset}{portfolio.quote_asset}"
    mid = books.mid_price(exchange=portfolio.exchange, symbol=symbol)
    if mid is not None:
        return mid
    position = positions.get(symbol)
    if position is None and symbol not in positions:
        position = Position.objects.filter(portfolio=portfolio, symbol=symbol).first()
    return position.avg_cost if position is not None and position.avg_cost > 0 else None


def equity_value_from(
    *, portfolio: Portfolio, balances: Iterable[Balance], positions: dict[str, Position]
) -> EquityValue:
    """Quote balance plus every other asset marked to the live mid of <asset><quote> (the
    position's average cost when there is no live price)."""
    cash, value, unpriced = ZERO, ZERO, []
    for balance in balances:
        if balance.asset == portfolio.quote_asset:
            cash += balance.total
            continue
        if balance.total == 0:
            continue
        mark = _mark(portfolio, balance.asset, positions)
        if mark is None:
            unpriced.append(balance.asset)
            continue
        value += balance.total * mark
    return EquityValue(cash=cash, positions_value=value, equity=cash + value, unpriced=tuple(unpriced))


def portfolio_equity_get(*, portfolio: Portfolio) -> EquityValue:
    return equity_value_from(portfolio=portfolio, balances=Balance.objects.filter(portfolio=portfolio), positions={})


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    fees_paid: Decimal
    tick: Decimal | None = None  # the instrument's, for display (apps/core/formatting.py)
    step: Decimal | None = None


def instrument_increments(*, exchange: str) -> dict[str, tuple[Decimal, Decimal]]:
    """symbol -> (tick size, step size) of the exchange's instruments: prices and quantities on
    the pages are shown to these."""
    rows = Instrument.objects.filter(exchange=exchange).values_list("symbol", "tick_size", "step_size")
    return {symbol: (tick, step) for symbol, tick, step in rows}


def position_list(*, portfolio: Portfolio) -> list[PositionView]:
    views = []
    increments = instrument_increments(exchange=portfolio.exchange)
    for position in Position.objects.filter(portfolio=portfolio):
        tick, step = increments.get(position.symbol, (None, None))
        mark = books.mid_price(exchange=portfolio.exchange, symbol=position.symbol)
        views.append(
            PositionView(
                symbol=position.symbol,
                quantity=position.quantity,
                avg_cost=position.avg_cost,
                mark=mark,
                unrealized_pnl=pnl.unrealized_pnl(quantity=position.quantity, avg_cost=position.avg_cost, mark=mark),
                realized_pnl=position.realized_pnl,
                fees_paid=position.fees_paid,
                tick=tick,
                step=step,
            )
        )
    return views


def portfolio_metrics_get(*, portfolio: Portfolio, periods_per_year: float = 365.0) -> dict[str, Any]:
    """Performance over the equity snapshot series since the last reset."""
    snapshots = EquitySnapshot.objects.filter(portfolio=portfolio)
    if portfolio.reset_at:
        snapshots = snapshots.filter(ts__gte=portfolio.reset_at)
    series = list(snapshots.order_by("ts", "id").values_list("equity", flat=True))
    positions = list(Position.objects.filter(portfolio=portfolio))
    trades = sum(p.closed_trades for p in positions)
    wins = sum(p.winning_trades for p in positions)
    gross_profit = sum((p.gross_profit for p in positions), ZERO)
    gross_loss = sum((p.gross_loss for p in positions), ZERO)
    equity = portfolio_equity_get(portfolio=portfolio)
    fills = Fill.objects.filter(portfolio=portfolio)
    if portfolio.reset_at:
        fills = fills.filter(created_at__gte=portfolio.reset_at)
    totals = fills.aggregate(slippage=Avg("slippage_bps"))
    return {
        "equity": equity.equity,
        "total_return": pnl.total_return([*series, equity.equity]) if series else None,
        "max_drawdown": pnl.max_drawdown(series),
        "sharpe": pnl.sharpe_ratio(series, periods_per_year=periods_per_year),
        "sortino": pnl.sortino_ratio(series, periods_per_year=periods_per_year),
        "win_rate": pnl.win_rate(wins=wins, trades=trades),
        "profit_factor": pnl.profit_factor(gross_profit=gross_profit, gross_loss=gross_loss),
        "exposure": equity.positions_value / equity.equity if equity.equity else None,
        "fees_paid": sum((p.fees_paid for p in positions), ZERO),
        "realized_pnl": sum((p.realized_pnl for p in positions), ZERO),
        "unrealized_pnl": sum((v.unrealized_pnl for v in position_list(portfolio=portfolio)), ZERO),
        "average_slippage_bps": totals["slippage"],
        "trades": trades,
    }


def order_list(*, portfolio: Portfolio, open_only: bool = False) -> QuerySet[Order]:
    orders = Order.objects.filter(portfolio=portfolio)
    return orders.filter(status__in=Order.OPEN_STATUSES) if open_only else orders


def fill_list(*, portfolio: Portfolio) -> QuerySet[Fill]:
    return Fill.objects.filter(portfolio=portfolio).select_related("order")


def balance_list(*, portfolio: Portfolio) -> QuerySet[Balance]:
    return Balance.objects.filter(portfolio=portfolio)


def equity_series(*, portfolio: Portfolio, limit: int = 1000) -> list[tuple[Any, Decimal]]:
    rows = EquitySnapshot.objects.filter(portfolio=portfolio).order_by("-ts", "-id")[:limit]
    return [(row.ts, row.equity) for row in reversed(rows)]


def portfolio_summary_list(*, owner: Any) -> list[dict[str, Any]]:
    """The owner's portfolios with equity and today's P&L (since UTC midnight), by name."""
    midnight = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    rows = []
    for portfolio in Portfolio.objects.filter(owner=owner).order_by("name"):
        equity = portfolio_equity_get(portfolio=portfolio).equity
        today = [value for ts, value in equity_series(portfolio=portfolio, limit=2000) if ts >= midnight]
        day_open = today[0] if today else None
        rows.append(
            {
                "portfolio": portfolio,
                "equity": equity,
                "pnl_today": equity - day_open if day_open is not None else None,
                "pnl_today_pct": (equity - day_open) / day_open * 100 if day_open else None,
            }
        )
    return rows


def fees_paid_total(*, portfolio: Portfolio) -> Decimal:
    return Position.objects.filter(portfolio=portfolio).aggregate(total=MoneySum("fees_paid"))["total"] or ZERO


ORDER_EXPORT_HEADER = (
    "id", "client_order_id", "created_at", "symbol", "side", "type", "time_in_force", "quantity", "quote_quantity",
    "price", "stop_price", "status", "filled_qty", "filled_quote", "avg_price", "fees_paid", "source",
)  # fmt: skip
FILL_EXPORT_HEADER = (
    "id", "order_id", "created_at", "symbol", "side", "price", "quantity", "quote_quantity", "fee", "fee_asset",
    "liquidity", "arrival_mid", "slippage_bps", "rule", "trade_id",
)  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def order_export_rows(*, portfolio: Portfolio, orders: QuerySet[Order] | None = None) -> Iterator[list[str]]:
    """``orders``: a filtered queryset of the portfolio's orders (the page's filters)."""
    rows = orders if orders is not None else Order.objects.filter(portfolio=portfolio)
    for o in rows.filter(portfolio=portfolio).order_by("id").iterator(chunk_size=1000):
        yield [
            _cell(v)
            for v in (
                o.pk, o.client_order_id, o.created_at, o.symbol, o.side, o.order_type, o.time_in_force, o.quantity,
                o.quote_quantity, o.price, o.stop_price, o.status, o.filled_qty, o.filled_quote, o.avg_price,
                o.fees_paid, o.source,
            )
        ]  # fmt: skip


def fill_export_rows(*, portfolio: Portfolio, fills: QuerySet[Fill] | None = None) -> Iterator[list[str]]:
    """``fills``: a filtered queryset of the portfolio's fills (the trade history's filters)."""
    rows = fills if fills is not None else Fill.objects.filter(portfolio=portfolio)
    for f in rows.filter(portfolio=portfolio).order_by("id").iterator(chunk_size=1000):
        yield [
            _cell(v)
            for v in (
                f.pk, f.order_id, f.created_at, f.symbol, f.side, f.price, f.quantity, f.quote_quantity, f.fee,
                f.fee_asset, f.liquidity, f.arrival_mid, f.slippage_bps, f.rule, f.trade_id,
            )
        ]  # fmt: skip


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(*, header: Iterable[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """CSV lines one at a time, for StreamingHttpResponse (no whole file in memory)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow(row)
