"""Bot and backtest API serializers (unique names: drf-spectacular components).

Strategy parameters and risk settings are declared by each strategy (apps.bots.params builds
their serializers): the API checks them field by field (400, as documented: the request
schemas are one variant per strategy), then the rules between them (422), and the bots
services validate everything again, as for every other entry point."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.bots.models import Backtest, Bot, BotEvent
from apps.bots.params import risk_params_serializer, strategy_params_serializer
from apps.bots.strategies.registry import strategy_names
from apps.core.api_query import range_check
from apps.core.api_serializers import JsonInputSerializer, MoneyInputField, MoneyModelSerializer
from apps.core.exceptions import RuleError
from apps.market.models import Exchange, Timeframe

_ID = {"min_value": 1, "max_value": 2**62}


@extend_schema_field(risk_params_serializer())
class RiskField(serializers.DictField):
    """Risk settings: a JSON object checked by strategy_input_check, documented field by field."""


_MS = {"min_value": 0, "max_value": 2**53}


class BotOutputSerializer(serializers.ModelSerializer):
    portfolio = serializers.IntegerField(source="portfolio_id", read_only=True)

    class Meta:
        model = Bot
        fields = [
            "id",
            "name",
            "portfolio",
            "exchange",
            "symbol",
            "timeframe",
            "strategy",
            "params",
            "risk",
            "status",
            "status_reason",
            "last_candle_ms",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BotCreateInputSerializer(JsonInputSerializer):
    name = serializers.CharField(max_length=100)
    portfolio = serializers.IntegerField(**_ID, help_text="One of your portfolios; the bot trades on its exchange.")
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$")
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    strategy = serializers.ChoiceField(choices=strategy_names())
    params = serializers.DictField(required=False, help_text="Strategy parameters (see /bots/strategies/).")
    risk = RiskField(required=False, help_text="Risk settings (position size, stop loss...).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        strategy_input_check(strategy=attrs["strategy"], params=attrs.get("params"), risk=attrs.get("risk"))
        return attrs


class BotUpdateInputSerializer(JsonInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    portfolio = serializers.IntegerField(**_ID, required=False)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$", required=False)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)
    strategy = serializers.ChoiceField(choices=strategy_names(), required=False)
    params = serializers.DictField(
        required=False,
        help_text="Parameters of `strategy`, or of the bot's current strategy (their schemas: POST /bots/; "
        "422 when they do not fit).",
    )
    risk = RiskField(required=False)


class BotActionInputSerializer(JsonInputSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BotEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = BotEvent
        fields = ["id", "kind", "message", "data", "candle_open_ms", "created_at"]
        read_only_fields = fields


class BotEventQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BotEvent.Kind.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)


class BotStrategySerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    params = serializers.ListField(child=serializers.DictField(), help_text="Parameter declarations.")


class BacktestOutputSerializer(MoneyModelSerializer):
    bot = serializers.IntegerField(source="bot_id", read_only=True, allow_null=True)

    class Meta:
        model = Backtest
        fields = [
            "id",
            "bot",
            "strategy",
            "params",
            "risk",
            "exchange",
            "symbol",
            "timeframe",
            "start_ms",
            "end_ms",
            "initial_quote",
            "seed",
            "status",
            "progress",
            "error",
            "report",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class BacktestCreateInputSerializer(JsonInputSerializer):
    strategy = serializers.ChoiceField(choices=strategy_names())
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$")
    exchange = serializers.ChoiceField(choices=Exchange.choices, default=Exchange.BINANCE)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    params = serializers.DictField(required=False, help_text="Strategy parameters (see /bots/strategies/).")
    risk = RiskField(required=False)
    start_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    end_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    initial_quote = MoneyInputField(positive=True, default="10000")

    def validate(self, attrs: dict) -> dict:
        range_check(attrs.get("start_ms"), attrs.get("end_ms"), start_name="start_ms", end_name="end_ms")
        strategy_input_check(strategy=attrs["strategy"], params=attrs.get("params"), risk=attrs.get("risk"))
        return attrs


class BotBacktestInputSerializer(JsonInputSerializer):
    start_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    end_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    # Omitted: the bot's portfolio's quote balance.
    initial_quote = MoneyInputField(positive=True, required=False)

    def validate(self, attrs: dict) -> dict:
        range_check(attrs.get("start_ms"), attrs.get("end_ms"), start_name="start_ms", end_name="end_ms")
        return attrs


UNCHECKED: Any = object()


def strategy_input_check(*, strategy: str, params: Any = None, risk: Any = None, params_as_rule: bool = False) -> None:
    """Parameters and risk settings field by field, as the schema documents them (400). With
    ``params_as_rule`` (PATCH, whose schema has one free-form `params` for every strategy) a
    params error is a 422, a rule the schema does not state. UNCHECKED skips a part (a PATCH without it). The
    rules between values (fast < slow) are the services' (422, ParamsRuleBroken)."""
    field_errors: dict[str, Any] = {}
    for prefix, serializer_class, data in (
        ("params", strategy_params_serializer(strategy), params),
        ("risk", risk_params_serializer(), risk),
    ):
        if data is UNCHECKED:
            continue
        try:
            serializer_class().to_internal_value({} if data is None else data)
        except serializers.ValidationError as exc:
            field_errors[prefix] = exc.detail
    if field_errors and params_as_rule and set(field_errors) == {"params"}:
        raise RuleError(f"The parameters do not fit the {strategy} strategy.", fields=_flat(field_errors))
    if field_errors:
        raise serializers.ValidationError(_flat(field_errors))


def _flat(errors: dict[str, Any]) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for prefix, detail in errors.items():
        items = detail.items() if isinstance(detail, dict) else [("", detail)]
        for name, messages in items:
            key = f"{prefix}.{name}" if name else prefix
            flat[key] = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
    return flat


def _strategy_variants(base: type[serializers.Serializer], label: str) -> dict[str, type[serializers.Serializer]]:
    """One serializer per strategy, for the schema only: `strategy` is that one name and
    `params` that strategy's parameters."""
    variants = {}
    for name in strategy_names():
        camel = "".join(part.title() for part in name.split("_"))
        attrs = {
            "strategy": _ConstField(name),
            "params": strategy_params_serializer(name)(required=False, help_text="Strategy parameters."),
        }
        variants[name] = type(f"{label}{camel}InputSerializer", (base,), attrs)
    return variants


class _ConstField(serializers.CharField):
    def __init__(self, const: str):
        super().__init__()
        self.const = const

    def openapi_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # A pattern, not a one-value enum: drf-spectacular would make each a component.
        return {"type": "string", "pattern": f"^{re.escape(self.const)}$", "description": f"`{self.const}`"}


BOT_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="BotCreateInput",
    serializers=_strategy_variants(BotCreateInputSerializer, "BotCreate"),
    resource_type_field_name="strategy",
)
BACKTEST_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="BacktestCreateInput",
    serializers=_strategy_variants(BacktestCreateInputSerializer, "BacktestCreate"),
    resource_type_field_name="strategy",
)
