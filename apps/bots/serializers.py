"""Bot and backtest API serializers (unique names: drf-spectacular components).

Strategy parameters and risk settings are validated by the bots services (each strategy
declares its own), so here they are plain JSON objects."""

from __future__ import annotations

from rest_framework import serializers

from apps.bots.models import Backtest, Bot, BotEvent
from apps.core.api_serializers import JsonInputSerializer, MoneyInputField, MoneyModelSerializer
from apps.market.models import Exchange, Timeframe

_ID = {"min_value": 1, "max_value": 2**62}
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
    strategy = serializers.CharField(max_length=64)
    params = serializers.DictField(required=False, help_text="Strategy parameters (see /bots/strategies/).")
    risk = serializers.DictField(required=False, help_text="Risk settings (position size, stop loss...).")


class BotUpdateInputSerializer(JsonInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    portfolio = serializers.IntegerField(**_ID, required=False)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$", required=False)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)
    strategy = serializers.CharField(max_length=64, required=False)
    params = serializers.DictField(required=False)
    risk = serializers.DictField(required=False)


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
    strategy = serializers.CharField(max_length=64)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{2,32}$")
    exchange = serializers.ChoiceField(choices=Exchange.choices, default=Exchange.BINANCE)
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    params = serializers.DictField(required=False)
    risk = serializers.DictField(required=False)
    start_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    end_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    initial_quote = MoneyInputField(min_value=0, default="10000")

    def validate(self, attrs: dict) -> dict:
        if (
            attrs.get("start_ms") is not None
            and attrs.get("end_ms") is not None
            and attrs["start_ms"] > attrs["end_ms"]
        ):
            raise serializers.ValidationError({"end_ms": ["end_ms must not be before start_ms."]})
        return attrs


class BotBacktestInputSerializer(JsonInputSerializer):
    start_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    end_ms = serializers.IntegerField(required=False, allow_null=True, **_MS)
    # Omitted: the bot's portfolio's quote balance.
    initial_quote = MoneyInputField(min_value=0, required=False)
