"""Arrival (pure): when an order or a cancel reaches the simulated exchange, and which book
it meets there. Delays are drawn from generators seeded per (portfolio seed, order sequence),
so a replay draws the same ones (FILL_REALISM.md rules 5 and 6)."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence

from apps.market.events import BookSnapshot


def latency_sample_ms(*, seed: int, seq: int, mean_ms: int, jitter_ms: int) -> int:
    """Replayable latency: the same (seed, seq) always draws the same delay."""
    if mean_ms <= 0:
        return 0
    rng = random.Random(f"{seed}:{seq}")  # nosec B311 - seeded simulated latency, not security
    return max(0, round(rng.gauss(mean_ms, jitter_ms))) if jitter_ms > 0 else mean_ms


def book_at(history: Sequence[BookSnapshot], ts_ms: int) -> BookSnapshot | None:
    """The book the order sees on arrival: the latest snapshot at or before ``ts_ms``, or the
    oldest we have if the order arrives before all of them. ``history`` is oldest first."""
    if not history:
        return None
    index = bisect_right([b.ts_ms for b in history], ts_ms)
    return history[index - 1] if index else history[0]


def cancel_latency_ms(*, seed: int, seq: int, mean_ms: int, jitter_ms: int) -> int:
    """The cancel's own replayable delay: drawn from (seed, seq, "cancel"), so it differs from
    the order's placement delay but is the same on every replay."""
    if mean_ms <= 0:
        return 0
    rng = random.Random(f"{seed}:{seq}:cancel")  # nosec B311 - seeded simulated latency
    return max(0, round(rng.gauss(mean_ms, jitter_ms))) if jitter_ms > 0 else mean_ms
