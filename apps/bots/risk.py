"""Risk settings, the bot's position book-keeping and the per-candle decision (pure, Decimal).

The live runner and the backtester both call ``decide`` after the strategy's signal, so
sizing, cooldowns and the drawdown kill switch behave identically in paper trading and in
backtests. Stop-loss, take-profit and trailing exits are not decided on candle closes: after
each entry ``exit_orders`` names the resting orders that protect the position (one list, the
first to trigger cancels the others), and they trigger on trades between closes, as on an
exchange: the live matcher on every print, the backtester on each candle's intra-candle path
(``apps.portfolio.resting_rules``), with the same trigger rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Literal

from apps.bots.strategies.base import PositionView, Signal
from apps.bots.strategies.params import Param, ParamsInvalid, ParamsRuleBroken, validate_params

ZERO = Decimal("0")
HUNDRED = Decimal("100")

RISK_PARAMS: tuple[Param, ...] = (
    Param(
        "order_size_mode",
        "choice",
        "quote",
        "Order size as a quote amount or as a percentage of the portfolio's equity.",
        choices=("quote", "percent"),
    ),
    Param("order_size", "decimal", Decimal("100"), "Quote amount (or % of equity) per buy.", min=Decimal("0.00000001")),
    Param("max_position", "decimal", ZERO, "Largest position value in quote (0 = no cap).", min=ZERO),
    Param(
        "stop_loss_pct",
        "decimal",
        ZERO,
        "A stop-loss order this % below the entry price, placed after each entry; it triggers on the "
        "first trade at or below it (0 = off).",
        min=ZERO,
        max=HUNDRED,
    ),
    Param(
        "take_profit_pct",
        "decimal",
        ZERO,
        "A take-profit order this % above the entry price; it triggers on the first trade at or above it (0 = off).",
        min=ZERO,
        max=Decimal("10000"),
    ),
    Param(
        "trailing_stop_pct",
        "decimal",
        ZERO,
        "A trailing stop this % below the best trade since entry (whole basis points, 0.1-20 %: "
        "Binance's trailingDelta); it triggers on the first trade at or below it (0 = off).",
        min=ZERO,
        max=HUNDRED,
    ),
    Param(
        "cooldown_candles",
        "int",
        0,
        "Candles to wait after a trade before the strategy may trade again.",
        min=0,
        max=100_000,
    ),
    Param(
        "max_drawdown_pct",
        "decimal",
        ZERO,
        "Stop the bot when equity falls this % below its peak (0 = off).",
        min=ZERO,
        max=HUNDRED,
    ),
)


@dataclass(frozen=True, slots=True)
class RiskSettings:
    order_size_mode: str = "quote"
    order_size: Decimal = Decimal("100")
    max_position: Decimal = ZERO
    stop_loss_pct: Decimal = ZERO
    take_profit_pct: Decimal = ZERO
    trailing_stop_pct: Decimal = ZERO
    cooldown_candles: int = 0
    max_drawdown_pct: Decimal = ZERO


def risk_clean(data: Mapping[str, Any] | None) -> RiskSettings:
    values = validate_params(RISK_PARAMS, data)
    if values["order_size_mode"] == "percent" and values["order_size"] > HUNDRED:
        raise ParamsRuleBroken({"order_size": ["A percentage of equity must be at most 100."]})
    trail = values["trailing_stop_pct"]
    if trail and (not TRAIL_MIN_PCT <= trail <= TRAIL_MAX_PCT or (trail * HUNDRED) % 1):
        raise ParamsInvalid({"trailing_stop_pct": ["A trailing stop is 0.1-20 % in whole basis points (e.g. 1.25)."]})
    return RiskSettings(**values)


# Binance's TRAILING_DELTA filter: 10-2000 basis points.
TRAIL_MIN_PCT, TRAIL_MAX_PCT = Decimal("0.1"), Decimal("20")


@dataclass(frozen=True, slots=True)
class ExitOrder:
    """One resting exit of an open position: a sell of the whole position."""

    source: str  # stop_loss | take_profit | trailing_stop (the fill's Decision source)
    order_type: str
    stop_price: Decimal | None = None
    trailing_delta_bps: int | None = None

    @property
    def reason(self) -> str:
        return f"{self.source.replace('_', '-')} order"


def exit_orders(*, risk: RiskSettings, entry_price: Decimal, tick_size: Decimal = ZERO) -> tuple[ExitOrder, ...]:
    """The exits to rest after an entry at ``entry_price`` (empty when none is configured).
    Prices go to the tick away from the entry (a stop never tighter than configured)."""
    exits: list[ExitOrder] = []
    if risk.stop_loss_pct:
        stop = _to_tick(entry_price * (1 - risk.stop_loss_pct / HUNDRED), tick_size, ROUND_DOWN)
        exits.append(ExitOrder("stop_loss", "stop_loss", stop_price=stop))
    if risk.trailing_stop_pct:
        exits.append(
            ExitOrder("trailing_stop", "trailing_stop", trailing_delta_bps=int(risk.trailing_stop_pct * HUNDRED))
        )
    if risk.take_profit_pct:
        take = _to_tick(entry_price * (1 + risk.take_profit_pct / HUNDRED), tick_size, ROUND_UP)
        exits.append(ExitOrder("take_profit", "take_profit", stop_price=take))
    return tuple(exits)


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    if tick <= 0:
        return price
    return (price / tick).to_integral_value(rounding=rounding) * tick


@dataclass(slots=True)
class BotState:
    """The bot's own position (a bot may share its portfolio with manual trades)."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO  # quote paid for the open quantity, fees included
    entries: int = 0  # buy slices held; 0 means flat (dust left by step rounding ignored)
    last_trade_ms: int | None = None
    equity_peak: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    # The resting exit orders protecting the position (live: their order ids).
    exit_order_ids: list[int] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.entries > 0

    @property
    def entry_price(self) -> Decimal:
        return self.cost / self.quantity if self.quantity > 0 else ZERO

    def view(self) -> PositionView:
        return PositionView(self.quantity if self.entries else ZERO, self.entries)

    def to_json(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> BotState:
        data = data or {}
        state = cls()
        for key in ("quantity", "cost", "equity_peak", "realized_pnl"):
            if key in data:
                setattr(state, key, Decimal(str(data[key])))
        state.entries = int(data.get("entries", 0))
        last = data.get("last_trade_ms")
        state.last_trade_ms = int(last) if last is not None else None
        state.exit_order_ids = [int(i) for i in data.get("exit_order_ids", [])]
        return state


def apply_fill(
    state: BotState,
    *,
    side: str,
    base_delta: Decimal,
    quote_delta: Decimal,
    open_time_ms: int,
    full_exit: bool,
    price: Decimal,
) -> Decimal:
    """Book one filled order. Deltas are net of fees (buy: base +, quote -). Returns realised P&L."""
    state.last_trade_ms = open_time_ms
    if side == "buy":
        state.quantity += base_delta
        state.cost -= quote_delta
        state.entries += 1
        return ZERO
    sold = -base_delta
    share = sold / state.quantity if state.quantity > 0 else Decimal("1")
    released = state.cost * share
    pnl = quote_delta - released
    state.quantity -= sold
    state.cost -= released
    state.realized_pnl += pnl
    if full_exit or state.quantity <= 0:
        state.entries = 0
        state.cost = ZERO
    else:
        state.entries = max(state.entries - 1, 1)
    return pnl


Kind = Literal["buy", "sell", "hold", "kill"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Kind
    reason: str
    source: str = "strategy"  # strategy | stop_loss | take_profit | trailing_stop | risk
    quote_amount: Decimal | None = None
    quantity: Decimal | None = None
    full_exit: bool = False


def _buy(risk: RiskSettings, state: BotState, close: Decimal, quote_free: Decimal, equity: Decimal) -> Decision:
    amount = risk.order_size if risk.order_size_mode == "quote" else equity * risk.order_size / HUNDRED
    if risk.max_position:
        room = risk.max_position - state.quantity * close
        if room <= 0:
            return Decision("hold", "max position reached", "risk")
        amount = min(amount, room)
    amount = min(amount, quote_free)
    if amount <= 0:
        return Decision("hold", "no free quote balance", "risk")
    return Decision("buy", "", quote_amount=amount)


def decide(
    *,
    signal: Signal,
    open_time_ms: int,
    close: Decimal,
    state: BotState,
    risk: RiskSettings,
    quote_free: Decimal,
    equity: Decimal,
    timeframe_ms: int,
) -> Decision:
    """Turn the strategy's signal into an order decision. Updates the state's equity peak.
    (The position's stop / take-profit / trailing exits are resting orders: ``exit_orders``.)"""
    if equity > state.equity_peak:
        state.equity_peak = equity
    if risk.max_drawdown_pct and equity < state.equity_peak * (1 - risk.max_drawdown_pct / HUNDRED):
        return Decision(
            "kill",
            f"drawdown kill switch: equity {equity:.8f} is more than {risk.max_drawdown_pct}% below peak {state.equity_peak:.8f}",
            "risk",
        )
    if signal.action == "hold":
        return Decision("hold", signal.reason)
    if risk.cooldown_candles and state.last_trade_ms is not None:
        waited = (open_time_ms - state.last_trade_ms) // timeframe_ms
        if waited < risk.cooldown_candles:
            return Decision(
                "hold", f"cooldown: {waited}/{risk.cooldown_candles} candles since last trade ({signal.reason})", "risk"
            )
    if signal.action == "buy":
        d = _buy(risk, state, close, quote_free, equity)
        return Decision("buy", signal.reason, quote_amount=d.quote_amount) if d.action == "buy" else d
    if not state.entries:
        return Decision("hold", f"nothing to sell ({signal.reason})", "risk")
    full = signal.fraction >= 1.0
    quantity = state.quantity if full else state.quantity * Decimal(repr(signal.fraction))
    return Decision("sell", signal.reason, quantity=quantity, full_exit=full)
