"""Pure strategy code: interface, parameter declarations, built-ins and the registry."""

from __future__ import annotations

from apps.bots.strategies.base import HOLD, Bar, PositionView, Signal, Strategy
from apps.bots.strategies.params import Param, ParamsInvalid, ParamsRuleBroken, params_to_json, validate_params
from apps.bots.strategies.registry import (
    strategy_build,
    strategy_choices,
    strategy_class,
    strategy_clean_params,
    strategy_describe,
    strategy_names,
    strategy_params,
    strategy_register,
)

__all__ = [
    "HOLD",
    "Bar",
    "Param",
    "ParamsInvalid",
    "ParamsRuleBroken",
    "PositionView",
    "Signal",
    "Strategy",
    "params_to_json",
    "strategy_build",
    "strategy_choices",
    "strategy_class",
    "strategy_clean_params",
    "strategy_describe",
    "strategy_names",
    "strategy_params",
    "strategy_register",
    "validate_params",
]
