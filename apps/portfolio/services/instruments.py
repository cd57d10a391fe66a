"""Instrument rules for orders, cached in-process (filters change rarely; one query saved per order)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from apps.market.models import Instrument
from apps.portfolio import rules

TTL_SECONDS = 60.0

_cache: dict[tuple[str, str], tuple[float, InstrumentRules]] = {}


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    exchange: str
    symbol: str
    base_asset: str
    quote_asset: str
    filters: rules.Filters


def instrument_rules_get(*, exchange: str, symbol: str) -> InstrumentRules:
    """Raises the exchange's unknown-symbol error for a missing or non-trading instrument."""
    now = time.monotonic()
    hit = _cache.get((exchange, symbol))
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return hit[1]
    row = Instrument.objects.filter(exchange=exchange, symbol=symbol, status="TRADING").first()
    if row is None:
        raise rules.reject_symbol(exchange)
    value = InstrumentRules(
        exchange=exchange,
        symbol=symbol,
        base_asset=row.base_asset,
        quote_asset=row.quote_asset,
        filters=rules.Filters(
            tick_size=row.tick_size,
            step_size=row.step_size,
            min_qty=row.min_qty,
            max_qty=row.max_qty,
            min_notional=row.min_notional,
        ),
    )
    _cache[(exchange, symbol)] = (now, value)
    return value


def instrument_cache_clear() -> None:
    _cache.clear()
