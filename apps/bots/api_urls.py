from __future__ import annotations

from django.urls import path

from apps.bots import apis
from apps.core import api_converters  # noqa: F401  (registers <id:...>)

urlpatterns = [
    path("bots/", apis.BotListCreateApi.as_view(), name="api-bots"),
    path("bots/strategies/", apis.BotStrategyListApi.as_view(), name="api-bot-strategies"),
    path("bots/<id:pk>/", apis.BotDetailApi.as_view(), name="api-bot"),
    path("bots/<id:pk>/start/", apis.BotStartApi.as_view(), name="api-bot-start"),
    path("bots/<id:pk>/pause/", apis.BotPauseApi.as_view(), name="api-bot-pause"),
    path("bots/<id:pk>/stop/", apis.BotStopApi.as_view(), name="api-bot-stop"),
    path("bots/<id:pk>/events/", apis.BotEventListApi.as_view(), name="api-bot-events"),
    path("bots/<id:pk>/backtests/", apis.BotBacktestListCreateApi.as_view(), name="api-bot-backtests"),
    path("backtests/", apis.BacktestListCreateApi.as_view(), name="api-backtests"),
    path("backtests/<id:pk>/", apis.BacktestDetailApi.as_view(), name="api-backtest"),
]
