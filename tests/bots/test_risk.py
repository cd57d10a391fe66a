from __future__ import annotations

from decimal import Decimal as D

import pytest

from apps.bots.risk import BotState, apply_fill, decide, exit_orders, risk_clean
from apps.bots.strategies import HOLD, ParamsInvalid, Signal

BUY = Signal("buy", "test")
SELL = Signal("sell", "test")


def _decide(signal, *, state=None, risk=None, close="100", quote="1000", equity="1000", t=0):
    return decide(
        signal=signal,
        open_time_ms=t * 60_000,
        close=D(close),
        state=state or BotState(),
        risk=risk_clean(risk or {}),
        quote_free=D(quote),
        equity=D(equity),
        timeframe_ms=60_000,
    )


def _holding(qty="1", cost="100", t=0):
    state = BotState()
    apply_fill(
        state,
        side="buy",
        base_delta=D(qty),
        quote_delta=-D(cost),
        open_time_ms=t * 60_000,
        full_exit=False,
        price=D(cost) / D(qty),
    )
    state.equity_peak = D("1000")
    return state


def test_buy_sizes_by_quote_amount_capped_by_free_quote():
    assert _decide(BUY, risk={"order_size": "50"}).quote_amount == D("50")
    assert _decide(BUY, risk={"order_size": "5000"}).quote_amount == D("1000")


def test_buy_sizes_by_percent_of_equity():
    d = _decide(BUY, risk={"order_size_mode": "percent", "order_size": "10"}, equity="2000", quote="2000")
    assert d.quote_amount == D("200")


def test_max_position_caps_and_then_blocks_buys():
    state = _holding(qty="1", cost="100")
    d = _decide(BUY, state=state, risk={"order_size": "100", "max_position": "150"})
    assert d.quote_amount == D("50")
    d = _decide(BUY, state=state, risk={"order_size": "100", "max_position": "100"})
    assert (d.action, d.reason) == ("hold", "max position reached")


def test_exits_are_resting_orders_not_close_checks():
    """A close through the stop is no longer a decision: the stop is a resting order."""
    d = _decide(HOLD, state=_holding(), risk={"stop_loss_pct": "5"}, close="90")
    assert d.action == "hold"


def test_exit_orders_from_the_risk_settings_hand_computed():
    risk = risk_clean({"stop_loss_pct": "1", "take_profit_pct": "2.5", "trailing_stop_pct": "1.25"})
    exits = exit_orders(risk=risk, entry_price=D("100.037"), tick_size=D("0.01"))
    # stop 100.037 x 0.99 = 99.03663 -> down to the tick 99.03; take 100.037 x 1.025 =
    # 102.537925 -> up to 102.54; trailing 1.25 % = 125 bps.
    assert [(e.source, e.order_type, e.stop_price, e.trailing_delta_bps) for e in exits] == [
        ("stop_loss", "stop_loss", D("99.03"), None),
        ("trailing_stop", "trailing_stop", None, 125),
        ("take_profit", "take_profit", D("102.54"), None),
    ]
    assert exit_orders(risk=risk_clean({}), entry_price=D("100")) == ()


@pytest.mark.parametrize("pct", ["0.05", "20.5", "1.255"])
def test_trailing_stop_must_be_whole_bps_within_binances_range(pct):
    with pytest.raises(ParamsInvalid) as exc:
        risk_clean({"trailing_stop_pct": pct})
    assert set(exc.value.errors) == {"trailing_stop_pct"}


def test_cooldown_counts_candles_since_the_last_trade():
    state = _holding(t=10)
    risk = {"cooldown_candles": 3}
    assert _decide(SELL, state=state, risk=risk, t=12).reason.startswith("cooldown: 2/3")
    assert _decide(SELL, state=state, risk=risk, t=13).action == "sell"


def test_drawdown_kill_switch():
    state = BotState(equity_peak=D("1000"))
    assert _decide(HOLD, state=state, risk={"max_drawdown_pct": "20"}, equity="801").action == "hold"
    assert _decide(HOLD, state=state, risk={"max_drawdown_pct": "20"}, equity="799").action == "kill"


def test_apply_fill_books_average_cost_and_realised_pnl():
    state = _holding(qty="2", cost="200")
    pnl = apply_fill(
        state, side="sell", base_delta=D("-1"), quote_delta=D("120"), open_time_ms=0, full_exit=False, price=D("120")
    )
    assert pnl == D("20")
    assert (state.quantity, state.cost, state.entries) == (D("1"), D("100"), 1)
    pnl = apply_fill(
        state, side="sell", base_delta=D("-1"), quote_delta=D("90"), open_time_ms=0, full_exit=True, price=D("90")
    )
    assert pnl == D("-10")
    assert (state.quantity, state.entries, state.realized_pnl) == (D("0"), 0, D("10"))
    assert BotState.from_json(state.to_json()) == state


def test_risk_validation_field_errors():
    with pytest.raises(ParamsInvalid) as exc:
        risk_clean({"order_size": "-1", "stop_loss_pct": "150", "cooldown_candles": "x", "nope": 1})
    assert set(exc.value.errors) == {"order_size", "stop_loss_pct", "cooldown_candles", "nope"}
