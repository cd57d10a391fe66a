"""Indicator series for charts: GET markets/<exchange>/<symbol>/indicators/ (read-only).

Mount in apps/market/api_urls.py next to the candles route:
    re_path(_MARKET + r"indicators/$", IndicatorSeriesApi.as_view(), name="api-market-indicators")
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import query_data, range_check
from apps.core.api_schema import error_responses
from apps.core.exceptions import ApplicationError, NotFoundError
from apps.market.indicators.engine import IndicatorParams
from apps.market.indicators.selectors import SERIES_MAX_CANDLES, indicator_series_get, to_ms
from apps.market.models import Exchange, Timeframe


class IndicatorSeriesQuerySerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    start = serializers.DateTimeField(required=False, help_text="Inclusive open_time lower bound (ISO 8601).")
    end = serializers.DateTimeField(required=False, help_text="Inclusive open_time upper bound (ISO 8601).")
    limit = serializers.IntegerField(min_value=1, max_value=SERIES_MAX_CANDLES, default=500)
    rsi_period = serializers.IntegerField(min_value=2, max_value=500, default=14)
    macd_fast = serializers.IntegerField(min_value=2, max_value=500, default=12)
    macd_slow = serializers.IntegerField(min_value=2, max_value=500, default=26)
    macd_signal = serializers.IntegerField(min_value=2, max_value=500, default=9)
    bb_period = serializers.IntegerField(min_value=2, max_value=500, default=20)
    bb_nbdev = serializers.FloatField(min_value=0.1, max_value=10.0, default=2.0)
    sma_period = serializers.IntegerField(min_value=2, max_value=500, default=20)
    ema_period = serializers.IntegerField(min_value=2, max_value=500, default=20)
    atr_period = serializers.IntegerField(min_value=1, max_value=500, default=14)

    def validate(self, attrs: dict) -> dict:
        range_check(attrs.get("start"), attrs.get("end"))
        return attrs


class IndicatorSeriesPointSerializer(serializers.Serializer):
    open_time_ms = serializers.IntegerField()
    rsi = serializers.FloatField(allow_null=True)
    macd = serializers.FloatField(allow_null=True)
    macd_signal = serializers.FloatField(allow_null=True)
    macd_hist = serializers.FloatField(allow_null=True)
    bb_upper = serializers.FloatField(allow_null=True)
    bb_middle = serializers.FloatField(allow_null=True)
    bb_lower = serializers.FloatField(allow_null=True)
    sma = serializers.FloatField(allow_null=True)
    ema = serializers.FloatField(allow_null=True)
    atr = serializers.FloatField(allow_null=True)


class IndicatorSeriesSerializer(serializers.Serializer):
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    timeframe = serializers.CharField()
    params = serializers.DictField()
    lookbacks = serializers.DictField(child=serializers.IntegerField())
    series = IndicatorSeriesPointSerializer(many=True)


class IndicatorSeriesApi(APIView):
    @extend_schema(
        tags=["markets"],
        operation_id="markets_indicators_list",
        parameters=[
            OpenApiParameter("exchange", str, OpenApiParameter.PATH, enum=Exchange.values),
            OpenApiParameter("symbol", str, OpenApiParameter.PATH, description="e.g. BTCUSDT"),
            IndicatorSeriesQuerySerializer,
        ],
        responses={200: IndicatorSeriesSerializer, **error_responses(422)},
        description="RSI, MACD, Bollinger Bands, SMA, EMA and ATR per closed candle, oldest first, "
        "computed with the candles before the range as warm-up; null while an indicator is "
        "not yet meaningful (see `lookbacks`: index of the first value in a series). 422 when "
        "`end` is before `start`.",
    )
    def get(self, request: Request, exchange: str, symbol: str) -> Response:
        if exchange not in Exchange.values:
            raise NotFoundError(f"Unknown exchange {exchange!r}.")
        query = IndicatorSeriesQuerySerializer(data=query_data(request))
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            params = IndicatorParams.from_mapping(data)
        except ValueError as exc:
            raise ApplicationError(str(exc), code="invalid_params") from exc
        start, end = data.get("start"), data.get("end")
        series = indicator_series_get(
            exchange=exchange,
            symbol=symbol.upper(),
            timeframe=data["timeframe"],
            start_ms=None if start is None else to_ms(start),
            end_ms=None if end is None else to_ms(end),
            limit=data["limit"],
            params=params,
        )
        payload = {
            "exchange": exchange,
            "symbol": symbol.upper(),
            "timeframe": data["timeframe"],
            "params": asdict(params),
            "lookbacks": params.lookbacks(),
            "series": series,
        }
        return Response(IndicatorSeriesSerializer(payload).data)
