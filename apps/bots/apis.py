"""Bot and backtest API. Bots, their events and backtests are looked up through the bots
selectors scoped to request.user: someone else's is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bots import selectors
from apps.bots.models import Backtest, Bot
from apps.bots.serializers import (
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
from apps.core.api_schema import ERROR_DESCRIPTIONS, ErrorResponseSerializer
from apps.portfolio.models import Portfolio

BOT_TAGS, BACKTEST_TAGS = ["bots"], ["backtests"]


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _own_portfolio_or_none(request: Request, pk: int) -> Portfolio | None:
    # None makes the bots service answer "Choose one of your portfolios." (a field error):
    # whether someone else's portfolio exists is not revealed.
    return Portfolio.objects.filter(owner=request.user, pk=pk).first()


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
        request=BotCreateInputSerializer,
        responses={201: BotOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(BotCreateInputSerializer, request.data)
        data["portfolio"] = _own_portfolio_or_none(request, data["portfolio"])
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
        responses={200: BotOutputSerializer},
        description="Change the configuration. Strategy, symbol, timeframe and portfolio can only "
        "change while the bot is not running (409 otherwise).",
    )
    def patch(self, request: Request, pk: int) -> Response:
        bot = selectors.bot_get(owner=request.user, bot_id=pk)
        data = _valid(BotUpdateInputSerializer, request.data)
        if "portfolio" in data:
            data["portfolio"] = _own_portfolio_or_none(request, data["portfolio"])
        return Response(BotOutputSerializer(bot_update(bot=bot, actor=request.user, data=data)).data)

    @extend_schema(
        tags=BOT_TAGS,
        operation_id="bots_destroy",
        request=None,
        responses={204: None, 409: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS["409"])},
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
        responses={200: BotOutputSerializer},
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
        responses={201: BacktestOutputSerializer},
        description="Queue a backtest of the bot's configuration over stored candles.",
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
        request=BacktestCreateInputSerializer,
        responses={201: BacktestOutputSerializer},
        description="Queue a backtest of any strategy over stored candles; poll it for progress.",
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
