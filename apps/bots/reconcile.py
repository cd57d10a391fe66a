"""Paper-versus-backtest reconciliation (pure): line up the trades a bot made live with the
trades the backtester makes over the same candles, and say for each mismatch why.

Inputs are plain values so the comparison is testable without a database: the live trades,
the backtest's trades, the candles the live bot evaluated (with the decision it took), and
the candles present in the backtest's data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

BPS = Decimal("10000")
# Prices closer than this are "the same fill" (rounding, not a model difference).
PRICE_TOLERANCE_BPS = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class TradeLine:
    open_time_ms: int
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal = Decimal("0")
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "quantity": str(self.quantity),
            "price": str(self.price),
            "fee": str(self.fee),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class LiveRun:
    """What the live bot did on one candle: action taken (or hold) and why, or the error."""

    action: str
    reason: str = ""
    error: bool = False


def _bps(a: Decimal, b: Decimal) -> Decimal:
    return ((a - b) / b * BPS).quantize(Decimal("0.01")) if b else Decimal("0")


def _why_live_only(ms: int, bt_by_ms: Mapping[int, TradeLine], candles: set[int], diverged: int | None) -> str:
    if ms not in candles:
        return "candle missing from the backtest's data (feed gap); the live bot traded on it"
    if ms in bt_by_ms:
        return "opposite decisions on the same candle: the bot's position differed at this point"
    if diverged is not None:
        return f"follows the earlier divergence at {diverged}: position, balance or cooldown state differed"
    return "the backtest held: indicator state differed (live warm-up replays only the latest stored candles)"


def _why_backtest_only(ms: int, runs: Mapping[int, LiveRun], diverged: int | None) -> str:
    run = runs.get(ms)
    if run is None:
        return "the live bot did not evaluate this candle (not running, or its task never ran)"
    if run.error:
        return f"the live evaluation failed: {run.reason}"
    if run.action in ("hold", "") and run.reason:
        return f"the live bot held: {run.reason}"
    if run.action in ("buy", "sell"):
        return f"the live {run.action} order did not fill: {run.reason}"
    if diverged is not None:
        return f"follows the earlier divergence at {diverged}: position, balance or cooldown state differed"
    return "the live strategy held: indicator state differed (live warm-up replays only the latest stored candles)"


def _why_both(live: TradeLine, bt: TradeLine) -> list[str]:
    reasons = []
    gap = _bps(live.price, bt.price)
    if abs(gap) > PRICE_TOLERANCE_BPS:
        reasons.append(
            f"fill price: live {live.price} vs backtest {bt.price} ({gap} bps): the live order walked the real book "
            "(latency, depth), the backtest a book synthesised from the candle"
        )
    if live.quantity != bt.quantity:
        reasons.append(
            f"quantity: live {live.quantity} vs backtest {bt.quantity}: sizing follows balances and position, "
            "which differ once fills differ (and by step rounding)"
        )
    return reasons


def reconcile(
    *,
    live: Iterable[TradeLine],
    backtest: Iterable[TradeLine],
    runs: Mapping[int, LiveRun],
    candles: Iterable[int],
) -> dict[str, Any]:
    """Return {"summary": {...}, "differences": [{"open_time_ms", "kind", "live", "backtest", "why"}]}."""
    live_by = {(t.open_time_ms, t.side): t for t in live}
    bt_by = {(t.open_time_ms, t.side): t for t in backtest}
    bt_by_ms = {ms: t for (ms, _), t in bt_by.items()}
    candle_set = set(candles)
    differences: list[dict[str, Any]] = []
    matched = 0
    diverged: int | None = None
    for key in sorted(set(live_by) | set(bt_by)):
        ms = key[0]
        lv, bt = live_by.get(key), bt_by.get(key)
        if lv is not None and bt is not None:
            why = _why_both(lv, bt)
            if not why:
                matched += 1
                continue
            kind = "fill_differs"
        elif lv is not None:
            kind, why = "live_only", [_why_live_only(ms, bt_by_ms, candle_set, diverged)]
        else:
            kind, why = "backtest_only", [_why_backtest_only(ms, runs, diverged)]
        if kind != "fill_differs" and diverged is None:
            diverged = ms
        differences.append(
            {
                "open_time_ms": ms,
                "side": key[1],
                "kind": kind,
                "live": lv.to_json() if lv else None,
                "backtest": bt.to_json() if bt else None,
                "why": why,
            }
        )
    summary = {
        "live_trades": len(live_by),
        "backtest_trades": len(bt_by),
        "matched": matched,
        "differences": len(differences),
    }
    return {"summary": summary, "differences": differences}
