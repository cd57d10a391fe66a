"""Downtime replay rules (pure: no ORM). FILL_REALISM rule 10: what happened while the
matcher was down is replayed from stored 1m candles, conservatively, or marked as not
simulated. Used by ``apps.portfolio.services.replay``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.portfolio.fills import BUY, ZERO, step_down
from apps.portfolio.resting_rules import ExitSpec, bar_path, path_trigger

# Replay takes at most this share of a candle's volume per order: we cannot know how much
# of the minute's volume traded through our price, so we assume little of it did.
REPLAY_VOLUME_SHARE = Decimal("0.1")
BAR_MS = 60_000


@dataclass(frozen=True, slots=True)
class Bar:
    """A stored 1m candle, as the replay needs it."""

    open_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def downtime_coverage(
    *, start_ms: int, end_ms: int, bar_opens: Sequence[int], bar_ms: int = BAR_MS, min_gap_ms: int = 2_000
) -> tuple[list[int], list[tuple[int, int]]]:
    """Which bars replay the window (start, end) and which stretches stay unsimulated.

    Only bars lying wholly inside the window are used: a bar straddling an edge mixes prints
    the live matcher already applied (or will apply) with downtime prints. Stretches shorter
    than ``min_gap_ms`` are ignored: the checkpoint itself is only that precise.
    """
    used = sorted({t for t in bar_opens if t >= start_ms and t + bar_ms <= end_ms})
    gaps: list[tuple[int, int]] = []
    cursor = start_ms
    for opened in used:
        if opened - cursor >= min_gap_ms:
            gaps.append((cursor, opened))
        cursor = max(cursor, opened + bar_ms)
    if end_ms - cursor >= min_gap_ms:
        gaps.append((cursor, end_ms))
    return used, gaps


def replay_volume_cap(*, bar: Bar, step_size: Decimal, share: Decimal = REPLAY_VOLUME_SHARE) -> Decimal:
    return step_down(bar.volume * share, step_size)


def limit_fill_in_bar(
    *, side: str, limit_price: Decimal, remaining: Decimal, bar: Bar, step_size: Decimal = ZERO
) -> Decimal:
    """A resting limit fills at its price when the bar traded *through* it (low below a bid,
    high above an ask: a touch is not a fill), capped by a share of the bar's volume."""
    through = bar.low < limit_price if side == BUY else bar.high > limit_price
    if not through or remaining <= 0:
        return ZERO
    return min(step_down(remaining, step_size), replay_volume_cap(bar=bar, step_size=step_size))


def bar_prints(bar: Bar) -> tuple[Decimal, ...]:
    """The candle's intra-candle path (``resting_rules.bar_path``): what stops meet in it."""
    return bar_path(open_=bar.open, high=bar.high, low=bar.low, close=bar.close)


def first_reached(
    *, spec: ExitSpec | None, side: str, limit_price: Decimal | None, best_price: Decimal | None, bars: Sequence[Bar]
) -> tuple[int, int] | None:
    """(bar index, path index) where a resting order first triggers (``spec``: a stop) or a
    print first goes through its limit price, along the bars' paths; None if never. Which
    order of an OCO the downtime did reach first."""
    best = best_price
    for i, bar in enumerate(bars):
        path = bar_prints(bar)
        if spec is not None:
            hit, best = path_trigger(spec, best_price=best, path=path)
            if hit is not None:
                return i, hit.index
        elif limit_price is not None:
            for j, point in enumerate(path):
                if (point < limit_price) if side == BUY else (point > limit_price):
                    return i, j
    return None


def market_fill_price_in_bar(*, side: str, bar: Bar) -> Decimal:
    """A triggered stop-market still filling in a later bar: the bar's worst price for it."""
    return bar.high if side == BUY else bar.low
