"""Backtester: the live bots' strategy and risk code over a candle series (pure: no ORM).

Each candle: first the position's resting exits (stop-loss, trailing stop, take-profit:
``apps.bots.risk.exit_orders``, linked one-cancels-the-others) meet the candle's trades;
then the strategy sees the closed candle, ``apps.bots.risk.decide`` sizes or vetoes its
signal, and a market order is filled by the fill model at that candle's close, the price the
live runner sees when it evaluates the same candle. Deterministic: no clock, no unseeded
randomness, so the same input always yields the same trades (``trade_hash``).

Exits inside a candle. A candle becomes synthetic trades along its intra-candle path
(``apps.portfolio.resting_rules.bar_path``: open, low, high, close for a candle that closed
at or above its open, open, high, low, close otherwise), continuous between those points.
The exits trigger on that path by the live matcher's own rule (``trigger_on_trade``, through
``path_trigger``): a trailing stop's best price follows the path, a level crossed inside a
leg triggers at the level, a gap at the open triggers at the open; the first exit to trigger
cancels the others. The triggered exit fills (fill model ``stop``) at the worse of its
trigger and the most extreme price the rest of the candle reached in the triggering
direction (the downtime replay's rule: where in the candle the stop's walk of the book
completed is unknown), plus the model's slippage. Given the candle's actual trades
(``prints``), the exits meet those prints one by one instead, as the live matcher does, and
a triggered exit fills at the print that triggered it.

The fill model is a seam. The default, ``BookWalkFillModel``, is the paper trading fill
engine itself (``apps.portfolio.fills.walk_book`` and its fee schedule) run against a book
synthesised from the candle: so fees, step rounding, slippage caps and partial fills follow
the same rules as live paper orders. ``CandleFillModel`` is a simpler close-plus-slippage
model for hand-checkable runs.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from apps.bots.performance import equity_metrics, trade_stats
from apps.bots.risk import BotState, Decision, ExitOrder, RiskSettings, apply_fill, decide, exit_orders, risk_clean
from apps.bots.strategies import Bar, strategy_build
from apps.market.events import BookSnapshot
from apps.portfolio.fills import RULE_STOP_GAP, TAKER, Execution, FeeSchedule, step_down, walk_book
from apps.portfolio.resting_rules import ExitSpec, bar_path, first_path_trigger, trigger_on_trade

ZERO = Decimal("0")
BPS = Decimal("10000")
QTY_STEP = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class SimFill:
    """One market order's result: gross quantity and quote, fee and the asset it was taken in."""

    quantity: Decimal
    price: Decimal
    quote: Decimal
    fee: Decimal
    fee_in_base: bool
    slippage_bps: Decimal
    rule: str
    complete: bool = True  # False: the book ran out before the order was filled


class FillModel(Protocol):
    def market(self, *, side: str, bar: Bar, quantity: Decimal | None, quote_amount: Decimal | None) -> SimFill | None:
        """Fill a market order placed at ``bar``'s close; None when nothing can fill."""

    def stop(self, *, side: str, bar: Bar, price: Decimal, quantity: Decimal) -> SimFill | None:
        """Fill a triggered stop-market exit inside ``bar``, never better than ``price``."""


@dataclass(frozen=True, slots=True)
class CandleFillModel:
    """Market orders fill at the close moved against the taker by ``slippage_bps``; the fee is
    taken in the asset received (Binance/KuCoin spot default), at ``fee_rate``."""

    fee_rate: Decimal = Decimal("0.001")
    slippage_bps: Decimal = Decimal("5")
    qty_step: Decimal = QTY_STEP

    def market(self, *, side: str, bar: Bar, quantity: Decimal | None, quote_amount: Decimal | None) -> SimFill | None:
        slip = self.slippage_bps / BPS
        price = bar.close * (1 + slip) if side == "buy" else bar.close * (1 - slip)
        if quantity is None:
            quantity = (quote_amount or ZERO) / price
        quantity = step_down(quantity, self.qty_step)
        if quantity <= 0:
            return None
        quote = quantity * price
        fee = (quantity if side == "buy" else quote) * self.fee_rate
        return SimFill(quantity, price, quote, fee, side == "buy", self.slippage_bps, "candle_close")

    def stop(self, *, side: str, bar: Bar, price: Decimal, quantity: Decimal) -> SimFill | None:
        slip = self.slippage_bps / BPS
        fill_price = price * (1 + slip) if side == "buy" else price * (1 - slip)
        quantity = step_down(quantity, self.qty_step)
        if quantity <= 0:
            return None
        quote = quantity * fill_price
        fee = (quantity if side == "buy" else quote) * self.fee_rate
        return SimFill(quantity, fill_price, quote, fee, side == "buy", self.slippage_bps, RULE_STOP_GAP)


@dataclass(frozen=True, slots=True)
class BookWalkFillModel:
    """The paper fill engine against a book synthesised from the candle.

    The book is centred on the close with ``half_spread_bps`` to the best levels, then
    ``levels`` levels ``level_step_bps`` apart, each showing ``depth_share`` of the candle's
    volume (a quiet candle has a thin book; a candle with no volume has no book and the
    order does not fill, as on the exchange)."""

    fees: FeeSchedule = FeeSchedule()
    half_spread_bps: Decimal = Decimal("1")
    level_step_bps: Decimal = Decimal("2")
    levels: int = 20
    depth_share: Decimal = Decimal("0.1")
    step_size: Decimal = QTY_STEP
    max_slippage_bps: Decimal | None = Decimal("500")
    exchange: str = "backtest"
    symbol: str = "BACKTEST"

    def book(self, bar: Bar, *, centre: Decimal | None = None) -> BookSnapshot:
        """The synthetic book around the close (or ``centre``: a stop's trigger inside the bar)."""
        size = bar.volume * self.depth_share
        mid = bar.close if centre is None else centre
        offsets = [(self.half_spread_bps + k * self.level_step_bps) / BPS for k in range(self.levels)]
        bids = tuple((mid * (1 - o), size) for o in offsets)
        asks = tuple((mid * (1 + o), size) for o in offsets)
        return BookSnapshot(self.exchange, self.symbol, bids, asks, bar.open_time_ms)

    def market(self, *, side: str, bar: Bar, quantity: Decimal | None, quote_amount: Decimal | None) -> SimFill | None:
        execution = walk_book(
            book=self.book(bar),
            side=side,
            quantity=step_down(quantity, self.step_size) if quantity is not None else None,
            quote_quantity=quote_amount if quantity is None else None,
            step_size=self.step_size,
            max_slippage_bps=self.max_slippage_bps,
        )
        return self._sim_fill(side=side, bar=bar, execution=execution)

    def stop(self, *, side: str, bar: Bar, price: Decimal, quantity: Decimal) -> SimFill | None:
        """The live stop-market's walk (``gap_price``: never better than the trigger) on a book
        around the price it triggered at."""
        execution = walk_book(
            book=self.book(bar, centre=price),
            side=side,
            quantity=step_down(quantity, self.step_size),
            step_size=self.step_size,
            gap_price=price,
            rule=RULE_STOP_GAP,
        )
        return self._sim_fill(side=side, bar=bar, execution=execution)

    def _sim_fill(self, *, side: str, bar: Bar, execution: Execution) -> SimFill | None:
        if not execution.slices:
            return None
        fee = sum(
            (self.fees.fee(side=side, quantity=s.quantity, quote=s.quote, liquidity=TAKER) for s in execution.slices),
            ZERO,
        )
        return SimFill(
            execution.quantity,
            execution.avg_price or bar.close,
            execution.quote,
            fee,
            side == "buy",
            execution.slippage_bps or ZERO,
            execution.slices[0].rule,
            not execution.exhausted,
        )


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    open_time_ms: int
    side: str
    source: str
    reason: str
    quantity: Decimal
    price: Decimal
    quote: Decimal
    fee: Decimal
    fee_asset: str
    slippage_bps: Decimal
    pnl: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class BacktestReport:
    strategy: str
    params: dict[str, Any]
    candles: int
    initial_quote: Decimal
    final_equity: Decimal
    trades: list[BacktestTrade]
    equity: list[tuple[int, Decimal]]
    metrics: dict[str, Any] = field(default_factory=dict)
    killed: str = ""

    @property
    def trade_hash(self) -> str:
        blob = json.dumps([t.to_json() for t in self.trades], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_json(self, *, curve_points: int = 500) -> dict[str, Any]:
        step = max(1, len(self.equity) // curve_points)
        curve = self.equity[::step]
        if self.equity and curve[-1] != self.equity[-1]:
            curve.append(self.equity[-1])
        return {
            "strategy": self.strategy,
            "params": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.params.items()},
            "candles": self.candles,
            "initial_quote": str(self.initial_quote),
            "final_equity": str(self.final_equity),
            "killed": self.killed,
            "metrics": self.metrics,
            "trade_hash": self.trade_hash,
            "trades": [t.to_json() for t in self.trades],
            "equity_curve": [[ms, str(eq)] for ms, eq in curve],
        }


def load_csv(path: str | Path) -> list[Bar]:
    """Candles from a ``open_time_ms,open,high,low,close,volume`` CSV (optionally .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:  # type: ignore[operator]
        return list(parse_csv_rows(csv.reader(fh)))


def bar_from_values(
    open_time_ms: int, open_: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal
) -> Bar:
    return Bar(open_time_ms, open_, high, low, close, volume, float(close))


def parse_csv_rows(rows: Iterable[Sequence[str]]) -> Iterator[Bar]:
    for row in rows:
        if not row or not row[0].strip().isdigit():
            continue  # header or blank line
        close = Decimal(row[4])
        yield Bar(int(row[0]), Decimal(row[1]), Decimal(row[2]), Decimal(row[3]), close, Decimal(row[5]), float(close))


def infer_timeframe_ms(bars: Sequence[Bar]) -> int:
    """The most common gap between candles (files have real gaps, so not simply the first)."""
    gaps: dict[int, int] = {}
    for a, b in zip(bars[:200], bars[1:201], strict=False):
        gap = b.open_time_ms - a.open_time_ms
        gaps[gap] = gaps.get(gap, 0) + 1
    return max(gaps, key=lambda g: gaps[g]) if gaps else 60_000


def _record(state: BotState, fill: SimFill, side: str, bar: Bar, decision: Any) -> tuple[BacktestTrade, Decimal]:
    if side == "buy":
        base_delta, quote_delta = fill.quantity - fill.fee, -fill.quote
    else:
        base_delta, quote_delta = -fill.quantity, fill.quote - fill.fee
    pnl = apply_fill(
        state,
        side=side,
        base_delta=base_delta,
        quote_delta=quote_delta,
        open_time_ms=bar.open_time_ms,
        # A partially filled exit leaves the position open.
        full_exit=decision.full_exit and fill.complete,
        price=fill.price,
    )
    trade = BacktestTrade(
        bar.open_time_ms,
        side,
        decision.source,
        decision.reason,
        fill.quantity,
        fill.price,
        fill.quote,
        fill.fee,
        "base" if fill.fee_in_base else "quote",
        fill.slippage_bps,
        pnl if side == "sell" else None,
    )
    return trade, quote_delta


@dataclass(slots=True)
class _RestingExits:
    """The position's resting exits, linked one-cancels-the-others: what the live bot rests."""

    orders: tuple[ExitOrder, ...]
    specs: tuple[ExitSpec, ...]
    bests: list[Decimal | None]  # a trailing stop's best print since placement


def _exits_rest(*, settings: RiskSettings, state: BotState, price: Decimal) -> _RestingExits | None:
    """The exits after an entry booked at ``price`` (the close: the last trade when placed)."""
    orders = exit_orders(risk=settings, entry_price=state.entry_price) if state.is_open else ()
    if not orders:
        return None
    specs = tuple(ExitSpec(o.order_type, "sell", o.stop_price, o.trailing_delta_bps) for o in orders)
    return _RestingExits(orders, specs, [price if o.trailing_delta_bps is not None else None for o in orders])


def _exits_meet(exits: _RestingExits, bar: Bar, prints: Sequence[Decimal] | None) -> tuple[ExitOrder, Decimal] | None:
    """(the exit that triggered first, the price it fills at before slippage), or None."""
    if prints is None:
        path = bar_path(open_=bar.open, high=bar.high, low=bar.low, close=bar.close)
        found = first_path_trigger(exits.specs, best_prices=exits.bests, path=path)
        return None if found is None else (exits.orders[found[0]], found[1].fill_price)
    for price in prints:  # the candle's actual trades: one by one, as the live matcher
        for k, spec in enumerate(exits.specs):
            exits.bests[k], hit = trigger_on_trade(spec, best_price=exits.bests[k], trade_price=price)
            if hit:
                return exits.orders[k], price
    return None


def backtest_run(
    *,
    strategy: str,
    params: Mapping[str, Any] | None,
    bars: Sequence[Bar],
    risk: RiskSettings | Mapping[str, Any] | None = None,
    initial_quote: Decimal = Decimal("10000"),
    fill_model: FillModel | None = None,
    timeframe_ms: int | None = None,
    progress: Callable[[int], None] | None = None,
    trade_from_ms: int | None = None,
    prints: Mapping[int, Sequence[Decimal]] | None = None,
) -> BacktestReport:
    """Run ``strategy`` over ``bars`` (oldest first). ``progress`` gets 0-100 now and then.
    Candles before ``trade_from_ms`` only warm the indicators up (as the live runner's replay does).
    ``prints``: trade prices inside a candle (by its open time) that the exits meet instead
    of the candle's synthetic path (module docstring)."""
    timeframe_ms = timeframe_ms or infer_timeframe_ms(bars)
    strat = strategy_build(strategy, params, timeframe_ms=timeframe_ms)
    settings = risk if isinstance(risk, RiskSettings) else risk_clean(risk)
    fills = fill_model or BookWalkFillModel()
    state = BotState()
    quote = initial_quote
    trades: list[BacktestTrade] = []
    equity: list[tuple[int, Decimal]] = []
    pnls: list[Decimal] = []
    exposed = 0
    killed = ""
    total = len(bars)
    every = max(total // 100, 1)
    view = state.view()  # refreshed after each fill, not rebuilt per candle
    exits: _RestingExits | None = None
    for i, bar in enumerate(bars):
        met = _exits_meet(exits, bar, (prints or {}).get(bar.open_time_ms)) if exits is not None else None
        if met is not None:
            exit_, price = met
            fill = fills.stop(side="sell", bar=bar, price=price, quantity=state.quantity)
            decision = Decision("sell", exit_.reason, exit_.source, quantity=state.quantity, full_exit=True)
            if fill is not None:
                trade, quote_delta = _record(state, fill, "sell", bar, decision)
                quote += quote_delta
                view = state.view()
                trades.append(trade)
                pnls.append(trade.pnl or ZERO)
            # A walk the synthetic book cut short: the rest stays protected (live, the
            # triggered stop keeps selling).
            exits = _exits_rest(settings=settings, state=state, price=bar.close)
        signal = strat.on_candle(bar, view)
        if trade_from_ms is not None and bar.open_time_ms < trade_from_ms:
            continue
        value = quote + state.quantity * bar.close if state.quantity else quote
        if signal.action == "hold" and not state.entries and not settings.max_drawdown_pct:
            # Fast path: nothing to size, no exits to check, no kill switch to watch.
            equity.append((bar.open_time_ms, value))
            continue
        decision = decide(
            signal=signal,
            open_time_ms=bar.open_time_ms,
            close=bar.close,
            state=state,
            risk=settings,
            quote_free=quote,
            equity=value,
            timeframe_ms=timeframe_ms,
        )
        if decision.action == "kill":
            killed = decision.reason
            equity.append((bar.open_time_ms, value))
            break
        if decision.action in ("buy", "sell"):
            fill = fills.market(
                side=decision.action, bar=bar, quantity=decision.quantity, quote_amount=decision.quote_amount
            )
            if fill is not None:
                trade, quote_delta = _record(state, fill, decision.action, bar, decision)
                quote += quote_delta
                view = state.view()
                trades.append(trade)
                if trade.pnl is not None:
                    pnls.append(trade.pnl)
                # After every entry or partial exit the exits rest again for the position.
                exits = _exits_rest(settings=settings, state=state, price=bar.close)
        if state.entries:
            exposed += 1
        equity.append((bar.open_time_ms, quote + state.quantity * bar.close))
        if progress is not None and i % every == 0:
            progress(i * 100 // total)
    if progress is not None:
        progress(100)
    final = equity[-1][1] if equity else initial_quote
    report = BacktestReport(strategy, strat.p, len(equity), initial_quote, final, trades, equity, killed=killed)
    report.metrics = _metrics(report, pnls, exposed, timeframe_ms)
    return report


def _metrics(report: BacktestReport, pnls: list[Decimal], exposed: int, timeframe_ms: int) -> dict[str, Any]:
    curve = [report.initial_quote] + [eq for _, eq in report.equity]
    # Return ratios are float maths anyway (pnl converts each return to float); feeding
    # floats avoids two Decimal divisions per candle for Sharpe and Sortino.
    curve_f = [float(v) for v in curve]
    fees_quote = sum((t.fee * t.price if t.fee_asset == "base" else t.fee for t in report.trades), ZERO)
    slippage = [t.slippage_bps for t in report.trades]
    return {
        **equity_metrics(curve, curve_f, timeframe_ms=timeframe_ms),
        "trades": len(report.trades),
        **trade_stats(pnls),
        "exposure_pct": str((Decimal(exposed) / max(report.candles, 1) * 100).quantize(Decimal("0.01"))),
        "fees_paid": str(fees_quote.quantize(QTY_STEP)),
        "avg_slippage_bps": str((sum(slippage, ZERO) / len(slippage)).quantize(Decimal("0.0001")))
        if slippage
        else None,
    }
