"""Null-safe field reading for the exchange parsers (pure).

Quiet pairs get ``null`` where a busy one has a number (KuCoin: buy/sell/high/low/changeRate
... on a pair without trades or orders). A null is "no value": an event that cannot exist
without the value is not produced (the parser answers None), an optional one falls back to
what "no value" means there (no volume is 0, no range is the last price). Never a crash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def dec_or(value: Any, default: Decimal) -> Decimal:
    return default if value is None else Decimal(value)


def levels(rows: Any) -> tuple[tuple[Decimal, Decimal], ...]:
    """Book levels [[price, size, ...], ...]; a null list or a level with a null is left out."""
    if rows is None:
        return ()
    out = []
    for row in rows:
        if row is None or row[0] is None or row[1] is None:
            continue
        out.append((Decimal(row[0]), Decimal(row[1])))
    return tuple(out)


def changes(rows: Any, sequence: int | None = None) -> tuple[tuple[Decimal, Decimal, int], ...] | None:
    """Book changes [[price, size(, sequence)], ...] as (price, size, sequence); a change
    without its own sequence (Binance) has ``sequence``. None when any value is null: a diff
    with a hole cannot be applied (unlike a snapshot, where a missing level only hides
    liquidity, a missing change leaves a stale level in the book)."""
    if rows is None:
        return None
    out = []
    for row in rows:
        if row is None or row[0] is None or row[1] is None:
            return None
        own = row[2] if len(row) > 2 else sequence
        if own is None:
            return None
        out.append((Decimal(row[0]), Decimal(row[1]), int(own)))
    return tuple(out)
