from __future__ import annotations

from django.urls import path, re_path

from apps.market import apis
from apps.market.indicator_apis import IndicatorSeriesApi

_MARKET = r"^markets/(?P<exchange>[a-z]{1,16})/(?P<symbol>[A-Za-z0-9]{2,32})/"

urlpatterns = [
    path("markets/exchanges/", apis.MarketExchangeListApi.as_view(), name="api-market-exchanges"),
    path("markets/instruments/", apis.MarketInstrumentListApi.as_view(), name="api-market-instruments"),
    path("markets/tickers/", apis.MarketTickerListApi.as_view(), name="api-market-tickers"),
    re_path(_MARKET + r"candles/$", apis.MarketCandleListApi.as_view(), name="api-market-candles"),
    re_path(_MARKET + r"indicators/$", IndicatorSeriesApi.as_view(), name="api-market-indicators"),
    re_path(_MARKET + r"ticker/$", apis.MarketTickerApi.as_view(), name="api-market-ticker"),
    re_path(_MARKET + r"book/$", apis.MarketBookApi.as_view(), name="api-market-book"),
    re_path(_MARKET + r"trades/$", apis.MarketTradeListApi.as_view(), name="api-market-trades"),
]
