"""The bot configuration page: bot fields + the strategy's declared params + risk params.

Validation is the bots app's own (``bot_validate`` / ``bot_create``); this module only turns
POST data into the services' inputs and their ``fields`` errors into per-input messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings

from apps.bots.params import risk_params_form, strategy_params_form
from apps.bots.risk import RISK_PARAMS
from apps.bots.strategies.registry import strategy_choices, strategy_names, strategy_params
from apps.market.models import Timeframe
from apps.portfolio.models import Portfolio


class BotConfigForm(forms.Form):
    name = forms.CharField(max_length=100, label="Bot name", required=False)
    portfolio = forms.ModelChoiceField(queryset=Portfolio.objects.none(), label="Portfolio", required=False)
    symbol = forms.ChoiceField(choices=(), label="Symbol")
    timeframe = forms.ChoiceField(choices=[(t, t) for t in Timeframe.values], label="Timeframe", initial="1m")
    strategy = forms.ChoiceField(choices=(), label="Strategy")

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].queryset = Portfolio.objects.filter(owner=user).order_by("name")
        self.fields["portfolio"].empty_label = None
        self.fields["symbol"].choices = [(s, s) for s in settings.MARKET_SYMBOLS]
        self.fields["strategy"].choices = strategy_choices()


def strategy_from(data: Mapping[str, Any], default: str | None = None) -> str:
    name = str(data.get("strategy") or default or "")
    return name if name in strategy_names() else strategy_names()[0]


def _raw(data: Mapping[str, Any], prefix: str, params: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for param in params:
        key = f"{prefix}-{param.name}"
        if param.kind == "bool":
            raw[param.name] = key in data
        elif str(data.get(key, "")).strip() != "":
            raw[param.name] = str(data[key]).strip()
    return raw


def raw_params(data: Mapping[str, Any], strategy: str) -> dict[str, Any]:
    return _raw(data, "params", strategy_params(strategy))


def raw_risk(data: Mapping[str, Any]) -> dict[str, Any]:
    return _raw(data, "risk", RISK_PARAMS)


def field_errors(fields: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Service error keys ("params.period") to input names ("params-period")."""
    return {key.replace(".", "-", 1): list(messages) for key, messages in fields.items()}


def config_forms(*, user: Any, strategy: str, data: Mapping[str, Any] | None, initial: dict[str, Any] | None = None):
    """The three forms that make up the page, bound to ``data`` when given."""
    bot_form = BotConfigForm(data, user=user, initial=initial or {})
    params_form = strategy_params_form(strategy, data)
    risk_form = risk_params_form(data)
    return bot_form, params_form, risk_form


def all_input_names(strategy: str) -> list[str]:
    names = ["name", "portfolio", "symbol", "timeframe", "strategy"]
    names += [f"params-{p.name}" for p in strategy_params(strategy)]
    names += [f"risk-{p.name}" for p in RISK_PARAMS]
    return names


def bot_values(data: Mapping[str, Any], *, user: Any) -> dict[str, Any]:
    """The keyword arguments of bot_create/bot_validate from POST data (raw; the service validates)."""
    strategy = strategy_from(data)
    portfolio = (
        Portfolio.objects.filter(owner=user, pk=data.get("portfolio") or 0).first()
        if str(data.get("portfolio") or "").isdigit()
        else None
    )
    return {
        "name": str(data.get("name") or ""),
        "portfolio": portfolio,
        "symbol": str(data.get("symbol") or ""),
        "timeframe": str(data.get("timeframe") or "1m"),
        "strategy": strategy,
        "params": raw_params(data, strategy),
        "risk": raw_risk(data),
    }
