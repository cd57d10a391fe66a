"""Risk settings, the bot's position book-keeping and the per-candle decision (pure, Decimal).

The live runner and the backtester both call ``decide`` after the strategy's signal, so
sizing, stop-loss / take-profit / trailing exits, cooldowns and the drawdown kill switch
behave identically in paper trading and in backtests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from apps.bots.strategies.base import PositionView, Signal
from apps.bots.strategies.params import Param, ParamsRuleBroken, validate_params

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
        "Sell all when the close is this % below entry (0 = off).",
        min=ZERO,
        max=HUNDRED,
    ),
    Param(
        "take_profit_pct",
        "decimal",
        ZERO,
        "Sell all when the close is this % above entry (0 = off).",
        min=ZERO,
        max=Decimal("10000"),
    ),
    Param(
        "trailing_stop_pct",
        "decimal",
        ZERO,
        "Sell all when the close is this % below its peak since entry (0 = off).",
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
    return RiskSettings(**values)


@dataclass(slots=True)
class BotState:
    """The bot's own position (a bot may share its portfolio with manual trades)."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO  # quote paid for the open quantity, fees included
    entries: int = 0  # buy slices held; 0 means flat (dust left by step rounding ignored)
    peak_price: Decimal = ZERO
    last_trade_ms: int | None = None
    equity_peak: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    # (stop-loss price, take-profit price) for the open position; recomputed after fills
    # instead of on every candle (the backtester checks exits on every candle).
    exit_prices: tuple[Decimal, Decimal] | None = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.entries > 0

    @property
    def entry_price(self) -> Decimal:
        return self.cost / self.quantity if self.quantity > 0 else ZERO

    def view(self) -> PositionView:
        return PositionView(self.quantity if self.entries else ZERO, self.entries)

    def to_json(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "exit_prices"}
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> BotState:
        data = data or {}
        state = cls()
        for key in ("quantity", "cost", "peak_price", "equity_peak", "realized_pnl"):
            if key in data:
                setattr(state, key, Decimal(str(data[key])))
        state.entries = int(data.get("entries", 0))
        last = data.get("last_trade_ms")
        state.last_trade_ms = int(last) if last is not None else None
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
    state.exit_prices = None
    if side == "buy":
        state.quantity += base_delta
        state.cost -= quote_delta
        state.entries += 1
        state.peak_price = max(state.peak_price, price)
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
        state.peak_price = ZERO
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


def _exit_prices(state: BotState, risk: RiskSettings) -> tuple[Decimal, Decimal]:
    if state.exit_prices is None:
        entry = state.entry_price
        stop = entry * (1 - risk.stop_loss_pct / HUNDRED) if risk.stop_loss_pct else ZERO
        take = entry * (1 + risk.take_profit_pct / HUNDRED) if risk.take_profit_pct else ZERO
        state.exit_prices = (stop, take)
    return state.exit_prices


def _exit_rule(state: BotState, close: Decimal, risk: RiskSettings) -> Decision | None:
    stop, take = _exit_prices(state, risk)
    if stop and close <= stop:
        entry = state.entry_price
        return Decision(
            "sell",
            f"stop-loss {risk.stop_loss_pct}% below entry {entry:.8f}",
            "stop_loss",
            quantity=state.quantity,
            full_exit=True,
        )
    if take and close >= take:
        entry = state.entry_price
        return Decision(
            "sell",
            f"take-profit {risk.take_profit_pct}% above entry {entry:.8f}",
            "take_profit",
            quantity=state.quantity,
            full_exit=True,
        )
    if risk.trailing_stop_pct and close <= state.peak_price * (1 - risk.trailing_stop_pct / HUNDRED):
        return Decision(
            "sell",
            f"trailing stop {risk.trailing_stop_pct}% below peak {state.peak_price:.8f}",
            "trailing_stop",
            quantity=state.quantity,
            full_exit=True,
        )
    return None


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
    """Turn the strategy's signal into an order decision. Updates the state's peaks."""
    if equity > state.equity_peak:
        state.equity_peak = equity
    if risk.max_drawdown_pct and equity < state.equity_peak * (1 - risk.max_drawdown_pct / HUNDRED):
        return Decision(
            "kill",
            f"drawdown kill switch: equity {equity:.8f} is more than {risk.max_drawdown_pct}% below peak {state.equity_peak:.8f}",
            "risk",
        )
    if state.entries:
        if close > state.peak_price:
            state.peak_price = close
        exit_ = _exit_rule(state, close, risk)
        if exit_ is not None:
            return exit_
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
