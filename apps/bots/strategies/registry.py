"""Strategy registry: name -> class. Built-ins register here; plugins call ``strategy_register``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.bots.strategies.accumulation import Dca, Grid
from apps.bots.strategies.base import Strategy
from apps.bots.strategies.oscillators import BollingerReversion, RsiMeanReversion
from apps.bots.strategies.params import Param, ParamsInvalid
from apps.bots.strategies.trend import MacdCrossover, MaCrossover

_REGISTRY: dict[str, type[Strategy]] = {}


def strategy_register(cls: type[Strategy]) -> type[Strategy]:
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"strategy name {cls.name!r} already registered")
    _REGISTRY[cls.name] = cls
    return cls


for _cls in (RsiMeanReversion, MacdCrossover, BollingerReversion, MaCrossover, Dca, Grid):
    strategy_register(_cls)


def strategy_names() -> list[str]:
    return list(_REGISTRY)


def strategy_choices() -> list[tuple[str, str]]:
    return [(name, cls.label) for name, cls in _REGISTRY.items()]


def strategy_class(name: str) -> type[Strategy]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParamsInvalid({"strategy": [f"Unknown strategy {name!r}."]}) from None


def strategy_params(name: str) -> tuple[Param, ...]:
    return strategy_class(name).params


def strategy_clean_params(name: str, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed, validated parameters or ``ParamsInvalid`` with field errors."""
    return strategy_class(name).clean(data)


def strategy_build(name: str, data: Mapping[str, Any] | None, *, timeframe_ms: int = 60_000) -> Strategy:
    return strategy_class(name).build(data, timeframe_ms=timeframe_ms)


def strategy_describe(name: str) -> dict[str, Any]:
    cls = strategy_class(name)
    return {
        "name": cls.name,
        "label": cls.label,
        "description": cls.description,
        "params": [p.describe() for p in cls.params],
    }
