"""Market API serializers (unique names: drf-spectacular components)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from apps.core.api_query import range_check
from apps.core.api_serializers import MONEY as _MONEY
from apps.core.api_serializers import MoneyModelSerializer
from apps.market.models import Candle, Exchange, Instrument, Timeframe


class MarketExchangeSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Exchange.choices)
    name = serializers.CharField()


class MarketInstrumentSerializer(MoneyModelSerializer):
    class Meta:
        model = Instrument
        fields = [
            "exchange",
            "symbol",
            "exchange_symbol",
            "base_asset",
            "quote_asset",
            "status",
            "tick_size",
            "step_size",
            "min_qty",
            "max_qty",
            "min_notional",
            "is_active",
        ]
        read_only_fields = fields


class MarketInstrumentFilterSerializer(serializers.Serializer):
    exchange = serializers.ChoiceField(choices=Exchange.choices, required=False)
    quote_asset = serializers.CharField(required=False, max_length=16)
    active = serializers.BooleanField(required=False)
    search = serializers.CharField(required=False, max_length=32, help_text="Symbol contains (case-insensitive).")


class MarketCandleQuerySerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    start = serializers.DateTimeField(required=False, help_text="Inclusive open_time lower bound (ISO 8601).")
    end = serializers.DateTimeField(required=False, help_text="Inclusive open_time upper bound (ISO 8601).")
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=500)

    def validate(self, attrs: dict) -> dict:
        range_check(attrs.get("start"), attrs.get("end"))
        return attrs


class MarketCandleSerializer(MoneyModelSerializer):
    class Meta:
        model = Candle
        fields = ["open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]
        read_only_fields = fields


class MarketTickerSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    last = serializers.DecimalField(**_MONEY)
    open = serializers.DecimalField(**_MONEY)
    high = serializers.DecimalField(**_MONEY)
    low = serializers.DecimalField(**_MONEY)
    volume = serializers.DecimalField(**_MONEY)
    quote_volume = serializers.DecimalField(**_MONEY)
    change_pct = serializers.DecimalField(**_MONEY)
    ts_ms = serializers.IntegerField(help_text="Exchange event time, ms since the epoch.")


class MarketTickerFilterSerializer(serializers.Serializer):
    exchange = serializers.ChoiceField(choices=Exchange.choices, required=False)


class MarketBookSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    bids = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="[[price, quantity], ...] best first; decimal strings.",
    )
    asks = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="[[price, quantity], ...] best first; decimal strings.",
    )
    ts_ms = serializers.IntegerField()


class MarketTradeSerializer(serializers.Serializer):
    trade_id = serializers.CharField()
    price = serializers.DecimalField(**_MONEY)
    quantity = serializers.DecimalField(**_MONEY)
    taker_side = serializers.CharField()
    ts_ms = serializers.IntegerField()


class MarketTradeQuerySerializer(serializers.Serializer):
    """``limit``: 1 to MARKET_RECENT_TRADES (read per instance, so the setting is live)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The feed keeps MARKET_RECENT_TRADES per symbol: that many is all there is to serve.
        kept = settings.MARKET_RECENT_TRADES
        self.fields["limit"] = serializers.IntegerField(min_value=1, max_value=kept, default=kept)
