"""Bot and backtest API. Bots, their events and backtests are looked up through the bots
selectors scoped to request.user: someone else's is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bots import selectors
from apps.bots.models import Backtest, Bot
from apps.bots.serializers import (
    BACKTEST_CREATE_REQUEST,
    BOT_CREATE_REQUEST,
    UNCHECKED,
    BacktestCreateInputSerializer,
    BacktestOutputSerializer,
    BotActionInputSerializer,
    BotBacktestInputSerializer,
    BotCreateInputSerializer,
    BotEventOutputSerializer,
    BotEventQuerySerializer,
    BotOutputSerializer,
    BotStrategySerializer,
    BotUpdateInputSerializer,
    strategy_input_check,
)
from apps.bots.services import (
    backtest_create,
    backtest_create_for_bot,
    bot_create,
    bot_delete,
    bot_pause,
    bot_start,
    bot_stop,
    bot_update,
)
from apps.bots.strategies.registry import strategy_describe, strategy_names
from apps.bots.tasks import backtest_run_task
from apps.core.api_query import query_data
from apps.core.api_schema import error_responses
from apps.portfolio.models import Portfolio

BOT_TAGS, BACKTEST_TAGS = ["bots"], ["backtests"]


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _own_portfolio(request: Request, pk: int) -> Portfolio:
    # 404 for a missing portfolio and for someone else's alike: which one is not revealed.
    return get_object_or_404(Portfolio.objects.filter(owner=request.user), pk=pk)


class BotListCreateApi(ListAPIView):
    serializer_class = BotOutputSerializer

    def get_queryset(self) -> QuerySet[Bot]:
        return selectors.bot_list(owner=self.request.user).order_by("id")

    @extend_schema(tags=BOT_TAGS, operation_id="bots_list")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=BOT_TAGS,
        operation_id="bots_create",
        request=BOT_CREATE_REQUEST,
        responses={201: BotOutputSerializer, **error_responses(409, 422)},
        description="Create a stopped bot. 409 when you already have a bot with this name; 422 when "
        "the strategy parameters or risk settings break a rule between them (e.g. fast >= slow).",
    )
    def post(self, request: Request) -> Response:
        data = _valid(BotCreateInputSerializer, request.data)
        data["portfolio"] = _own_portfolio(request, data["portfolio"])
        bot = bot_create(owner=request.user, **data)
        return Response(BotOutputSerializer(bot).data, status=status.HTTP_201_CREATED)


class BotDetailApi(APIView):
    @extend_schema(tags=BOT_TAGS, operation_id="bots_retrieve", responses={200: BotOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(BotOutputSerializer(selectors.bot_get(owner=request.user, bot_id=pk)).data)

    @extend_schema(
        tags=BOT_TAGS,
        operation_id="bots_partial_update",
        request=BotUpdateInputSerializer,
        responses={200: BotOutputSerializer, **error_responses(409, 422)},
        description="Change the configuration. Strategy, symbol, timeframe and portfolio can only "
        "change while the bot is not running (409 otherwise, and for a name you already use). 422 "
        "when `params` do not fit the strategy (the new one, or the bot's current one; their schemas "
        "are on POST /bots/) or the values break a rule between them.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        data = _valid(BotUpdateInputSerializer, request.data)
        strategy = data.get("strategy", bot.strategy)
        params_checked = "params" in data or strategy != bot.strategy
        strategy_input_check(
            strategy=strategy,
            params=data.get("params") if params_checked else UNCHECKED,
            risk=data.get("risk") if "risk" in data else UNCHECKED,
            params_as_rule=True,  # this schema does not type params (it is one for every strategy)
        )
        if "portfolio" in data:
            data["portfolio"] = _own_portfolio(request, data["portfolio"])
        return Response(BotOutputSerializer(bot_update(bot=bot, actor=request.user, data=data)).data)

    @extend_schema(
        tags=BOT_TAGS,
        operation_id="bots_destroy",
        request=None,
        responses={204: None, **error_responses(409)},
        description="Delete the bot and its event log (its orders and fills stay in the portfolio). "
        "409 while the bot is running.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        bot_delete(bot=selectors.bot_get(owner=request.user, bot_id=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _BotActionApi(APIView):
    action_service: Any = None

    def post(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        reason = _valid(BotActionInputSerializer, request.data)["reason"]
        service = type(self).action_service
        bot = (
            service(bot=bot, actor=request.user)
            if service is bot_start
            else service(bot=bot, actor=request.user, reason=reason)
        )
        return Response(BotOutputSerializer(bot).data)


def _action_schema(name: str, description: str) -> Any:
    return extend_schema(
        tags=BOT_TAGS,
        operation_id=f"bots_{name}",
        request=BotActionInputSerializer,
        responses={200: BotOutputSerializer, **error_responses(409)},
        description=description + " 409 when the bot's current state does not allow it.",
    )


class BotStartApi(_BotActionApi):
    action_service = bot_start

    @_action_schema("start", "Run (or resume) the bot on every closed candle from now on.")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BotPauseApi(_BotActionApi):
    action_service = bot_pause

    @_action_schema("pause", "Pause a running bot.")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BotStopApi(_BotActionApi):
    action_service = bot_stop

    @_action_schema("stop", "Stop the bot.")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class BotEventListApi(APIView):
    @extend_schema(
        tags=BOT_TAGS,
        operation_id="bots_events_list",
        parameters=[BotEventQuerySerializer],
        responses={200: BotEventOutputSerializer(many=True)},
        description="The bot's event log, newest first.",
    )
    def get(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        query = _valid(BotEventQuerySerializer, query_data(request))
        events = selectors.bot_event_list(bot=bot, limit=query["limit"], kind=query.get("kind"))
        return Response(BotEventOutputSerializer(events, many=True).data)


class BotStrategyListApi(APIView):
    @extend_schema(
        tags=BOT_TAGS, operation_id="bots_strategies_list", responses={200: BotStrategySerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        return Response(BotStrategySerializer([strategy_describe(name) for name in strategy_names()], many=True).data)


class BotBacktestListCreateApi(APIView):
    @extend_schema(
        tags=BACKTEST_TAGS, operation_id="bots_backtests_list", responses={200: BacktestOutputSerializer(many=True)}
    )
    def get(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        backtests = selectors.backtest_list(owner=request.user, bot=bot).order_by("-id")[:100]
        return Response(BacktestOutputSerializer(backtests, many=True).data)

    @extend_schema(
        tags=BACKTEST_TAGS,
        operation_id="bots_backtests_create",
        request=BotBacktestInputSerializer,
        responses={201: BacktestOutputSerializer, **error_responses(409, 422)},
        description="Queue a backtest of the bot's configuration over stored candles. 409 when "
        "`initial_quote` is omitted and the bot's portfolio holds no quote asset; 422 when "
        "`end_ms` is before `start_ms`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        backtest = backtest_create_for_bot(
            bot=bot,
            actor=request.user,
            enqueue=backtest_run_task.delay,
            **_valid(BotBacktestInputSerializer, request.data),
        )
        return Response(BacktestOutputSerializer(backtest).data, status=status.HTTP_201_CREATED)


class BacktestListCreateApi(ListAPIView):
    serializer_class = BacktestOutputSerializer

    def get_queryset(self) -> QuerySet[Backtest]:
        return selectors.backtest_list(owner=self.request.user).order_by("-id")

    @extend_schema(tags=BACKTEST_TAGS, operation_id="backtests_list")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=BACKTEST_TAGS,
        operation_id="backtests_create",
        request=BACKTEST_CREATE_REQUEST,
        responses={201: BacktestOutputSerializer, **error_responses(422)},
        description="Queue a backtest of any strategy over stored candles; poll it for progress. 422 "
        "when the parameters break a rule between them or `end_ms` is before `start_ms`.",
    )
    def post(self, request: Request) -> Response:
        backtest = backtest_create(
            owner=request.user, enqueue=backtest_run_task.delay, **_valid(BacktestCreateInputSerializer, request.data)
        )
        return Response(BacktestOutputSerializer(backtest).data, status=status.HTTP_201_CREATED)


class BacktestDetailApi(APIView):
    @extend_schema(tags=BACKTEST_TAGS, operation_id="backtests_retrieve", responses={200: BacktestOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(BacktestOutputSerializer(selectors.backtest_get(owner=request.user, backtest_id=pk)).data)
