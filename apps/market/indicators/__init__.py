"""Technical indicators: incremental engine (engine.py, core.py), pandas-ta batch path
(batch.py), candle CSV I/O (csvio.py); ORM-backed warm-up and caching live in
selectors.py / services.py and are imported from there (this package root stays pure)."""

from __future__ import annotations

from apps.market.indicators.engine import (
    ALL_COLUMNS,
    MAIN_COLUMNS,
    Bar,
    IndicatorEngine,
    IndicatorParams,
    IndicatorState,
    IndicatorValues,
    fill_gaps,
)

__all__ = [
    "ALL_COLUMNS",
    "MAIN_COLUMNS",
    "Bar",
    "IndicatorEngine",
    "IndicatorParams",
    "IndicatorState",
    "IndicatorValues",
    "fill_gaps",
]
