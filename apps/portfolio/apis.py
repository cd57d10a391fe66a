"""Portfolio, order and fill API. Every queryset is scoped to request.user: another user's
object is a 404, the same answer as a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import CsvRenderer, ordering_apply, ordering_parameter, query_data
from apps.core.api_schema import error_responses
from apps.core.api_serializers import EmptyInputSerializer
from apps.core.client_ip import client_ip
from apps.portfolio import selectors
from apps.portfolio.models import EquitySnapshot, Fill, Order, Portfolio
from apps.portfolio.serializers import (
    FillExportQuerySerializer,
    FillFilterSerializer,
    FillOutputSerializer,
    OcoCreateInputSerializer,
    OcoOutputSerializer,
    OrderCreateInputSerializer,
    OrderFilterSerializer,
    OrderOutputSerializer,
    PortfolioBalanceSerializer,
    PortfolioCreateInputSerializer,
    PortfolioEquityPointSerializer,
    PortfolioEquityQuerySerializer,
    PortfolioMetricsSerializer,
    PortfolioOutputSerializer,
    PortfolioPositionSerializer,
    PortfolioResetInputSerializer,
    PortfolioUpdateInputSerializer,
)
from apps.portfolio.services import order_place, portfolio_create, portfolio_reset
from apps.portfolio.services.cancels import order_cancel
from apps.portfolio.services.order_lists import Leg, oco_place
from apps.portfolio.services.portfolio_admin import portfolio_delete, portfolio_update

PORTFOLIO_TAGS, ORDER_TAGS, FILL_TAGS = ["portfolios"], ["orders"], ["fills"]
ORDER_ORDERING = ["id", "created_at", "symbol", "status"]
FILL_ORDERING = ["id", "created_at", "symbol", "price"]


def own_portfolios(request: Request) -> QuerySet[Portfolio]:
    return Portfolio.objects.filter(owner=request.user)


def own_portfolio(request: Request, pk: int) -> Portfolio:
    return get_object_or_404(own_portfolios(request), pk=pk)


def _filters(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=query_data(request))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PortfolioListCreateApi(ListAPIView):
    serializer_class = PortfolioOutputSerializer

    def get_queryset(self) -> QuerySet[Portfolio]:
        return own_portfolios(self.request).order_by("id")

    @extend_schema(tags=PORTFOLIO_TAGS, operation_id="portfolios_list")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_create",
        request=PortfolioCreateInputSerializer,
        responses={201: PortfolioOutputSerializer, **error_responses(409, 422)},
        description="Create a portfolio. 409 when you already have one with this name; 422 when an "
        "asset name in `starting_balances` is not 2-16 letters or digits.",
    )
    def post(self, request: Request) -> Response:
        data = PortfolioCreateInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        portfolio = portfolio_create(owner=request.user, **data.validated_data)
        return Response(PortfolioOutputSerializer(portfolio).data, status=status.HTTP_201_CREATED)


class PortfolioDetailApi(APIView):
    @extend_schema(tags=PORTFOLIO_TAGS, operation_id="portfolios_retrieve", responses={200: PortfolioOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PortfolioOutputSerializer(own_portfolio(request, pk)).data)

    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_partial_update",
        request=PortfolioUpdateInputSerializer,
        responses={200: PortfolioOutputSerializer, **error_responses(409)},
        description="Change the name, fees, latency or fill settings (they apply to new orders). "
        "Exchange, quote asset and balances cannot change: balances move only through orders and resets. "
        "409 when you already have a portfolio with the new name.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        portfolio = own_portfolio(request, pk)
        data = PortfolioUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = portfolio_update(portfolio=portfolio, actor=request.user, **data.validated_data)
        return Response(PortfolioOutputSerializer(portfolio).data)

    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_destroy",
        request=None,
        responses={204: None, **error_responses(409)},
        description="Delete the portfolio and its history. 409 while one of its bots is running "
        "or one of its orders is open.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        portfolio_delete(portfolio=own_portfolio(request, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PortfolioResetApi(APIView):
    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_reset",
        request=PortfolioResetInputSerializer,
        responses={200: PortfolioOutputSerializer},
        description="Cancel open orders and restore the starting balances (history is kept).",
    )
    def post(self, request: Request, pk: int) -> Response:
        portfolio = own_portfolio(request, pk)
        data = PortfolioResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = portfolio_reset(portfolio=portfolio, actor=request.user, confirm=data.validated_data["confirm"])
        return Response(PortfolioOutputSerializer(portfolio).data)


class PortfolioBalanceListApi(APIView):
    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_balances_list",
        responses={200: PortfolioBalanceSerializer(many=True)},
    )
    def get(self, request: Request, pk: int) -> Response:
        balances = selectors.balance_list(portfolio=own_portfolio(request, pk)).order_by("asset")
        return Response(PortfolioBalanceSerializer(balances, many=True).data)


class PortfolioPositionListApi(APIView):
    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_positions_list",
        responses={200: PortfolioPositionSerializer(many=True)},
        description="Positions marked to the live mid (mark is null when there is no live price).",
    )
    def get(self, request: Request, pk: int) -> Response:
        positions = selectors.position_list(portfolio=own_portfolio(request, pk))
        return Response(PortfolioPositionSerializer(positions, many=True).data)


class PortfolioMetricsApi(APIView):
    @extend_schema(tags=PORTFOLIO_TAGS, operation_id="portfolios_metrics", responses={200: PortfolioMetricsSerializer})
    def get(self, request: Request, pk: int) -> Response:
        metrics = selectors.portfolio_metrics_get(portfolio=own_portfolio(request, pk))
        return Response(PortfolioMetricsSerializer(metrics).data)


class PortfolioEquityApi(APIView):
    @extend_schema(
        tags=PORTFOLIO_TAGS,
        operation_id="portfolios_equity_list",
        parameters=[PortfolioEquityQuerySerializer],
        responses={200: PortfolioEquityPointSerializer(many=True)},
        description="Equity snapshots, oldest first (the latest `limit` in the range).",
    )
    def get(self, request: Request, pk: int) -> Response:
        portfolio = own_portfolio(request, pk)
        query = _filters(PortfolioEquityQuerySerializer, request)
        snapshots = EquitySnapshot.objects.filter(portfolio=portfolio)
        if "start" in query:
            snapshots = snapshots.filter(ts__gte=query["start"])
        if "end" in query:
            snapshots = snapshots.filter(ts__lte=query["end"])
        points = list(snapshots.order_by("-ts", "-id")[: query["limit"]])
        points.reverse()
        return Response(PortfolioEquityPointSerializer(points, many=True).data)


class OrderListCreateApi(ListAPIView):
    serializer_class = OrderOutputSerializer

    def get_queryset(self) -> QuerySet[Order]:
        params = _filters(OrderFilterSerializer, self.request)
        orders = Order.objects.filter(portfolio__owner=self.request.user)
        for name, lookup in (
            ("portfolio", "portfolio_id"),
            ("side", "side"),
            ("type", "order_type"),
            ("status", "status"),
            ("created_after", "created_at__gte"),
            ("created_before", "created_at__lte"),
        ):
            if name in params:
                orders = orders.filter(**{lookup: params[name]})
        if params.get("symbol"):
            orders = orders.filter(symbol=params["symbol"].upper())
        if params.get("open") is not None:
            open_filter = {"status__in": Order.OPEN_STATUSES}
            orders = orders.filter(**open_filter) if params["open"] else orders.exclude(**open_filter)
        return ordering_apply(orders, request=self.request, allowed=ORDER_ORDERING, default="-id")

    @extend_schema(
        tags=ORDER_TAGS,
        operation_id="orders_list",
        parameters=[OrderFilterSerializer, ordering_parameter(ORDER_ORDERING, "-id")],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=ORDER_TAGS,
        operation_id="orders_create",
        request=OrderCreateInputSerializer,
        responses={201: OrderOutputSerializer, 200: OrderOutputSerializer, **error_responses(409, 422)},
        description="Place a paper order. 201 when created; 200 when `client_order_id` repeats an "
        "identical earlier request (idempotent); 409 when it repeats with different content, or when "
        "the balance does not cover the order. Exchange-rule rejections (which parameters the order "
        "type takes, the instrument's tick, step and minimum notional, an unlisted symbol) are 422 "
        "with the exchange's own code. Types: `market`, `limit`, `stop_loss`, `stop_loss_limit`, "
        "`take_profit`, `take_profit_limit` and `trailing_stop` (a stop-market whose trigger trails the best "
        "price since placement by `trailing_delta_bps`, Binance's trailingDelta). Linked exits: `orders/oco/`.",
    )
    def post(self, request: Request) -> Response:
        data = OrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        portfolio = own_portfolio(request, fields.pop("portfolio"))
        before = _existing_order_id(portfolio, fields.get("client_order_id"))
        order = order_place(
            portfolio=portfolio,
            actor=request.user,
            order_type=fields.pop("type"),
            source="api",
            source_ip=client_ip(request),
            **fields,
        )
        code = status.HTTP_200_OK if before == order.pk else status.HTTP_201_CREATED
        return Response(OrderOutputSerializer(order).data, status=code)


class OrderOcoCreateApi(APIView):
    @extend_schema(
        tags=ORDER_TAGS,
        operation_id="orders_oco_create",
        request=OcoCreateInputSerializer,
        responses={201: OcoOutputSerializer, 200: OcoOutputSerializer, **error_responses(409, 422)},
        description="Place an OCO (one-cancels-the-other) order list, as Binance's orderList/oco: two "
        "orders of one side and quantity, one above the market and one below it. The list reserves "
        "its funds once. When either order triggers or first fills (a partial fill counts), the "
        "other is canceled in the same transaction; canceling either cancels both. Each order is "
        "checked like a single order (422 with the exchange's code; 409 for the balance). 200 when "
        "`client_order_id` repeats an identical earlier list (idempotent); 409 when it repeats with "
        "different content.",
    )
    def post(self, request: Request) -> Response:
        data = OcoCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        portfolio = own_portfolio(request, fields.pop("portfolio"))
        legs = {
            name: Leg(
                order_type=leg["type"],
                price=leg.get("price"),
                stop_price=leg.get("stop_price"),
                trailing_delta_bps=leg.get("trailing_delta_bps"),
            )
            for name, leg in (("above", fields.pop("above")), ("below", fields.pop("below")))
        }
        before = _existing_order_id(
            portfolio, f"{fields['client_order_id']}-a" if "client_order_id" in fields else None
        )
        order_list = oco_place(
            portfolio=portfolio, actor=request.user, source="api", source_ip=client_ip(request), **fields, **legs
        )
        order_list.orders_sorted = list(order_list.orders.order_by("id"))
        code = status.HTTP_200_OK if before is not None else status.HTTP_201_CREATED
        return Response(OcoOutputSerializer(order_list).data, status=code)


def _existing_order_id(portfolio: Portfolio, client_order_id: str | None) -> int | None:
    if not client_order_id:
        return None
    return (
        Order.objects.filter(portfolio=portfolio, client_order_id=client_order_id).values_list("id", flat=True).first()
    )


def own_order(request: Request, pk: int) -> Order:
    return get_object_or_404(Order.objects.filter(portfolio__owner=request.user), pk=pk)


class OrderDetailApi(APIView):
    @extend_schema(tags=ORDER_TAGS, operation_id="orders_retrieve", responses={200: OrderOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(OrderOutputSerializer(own_order(request, pk)).data)


class OrderCancelApi(APIView):
    @extend_schema(
        tags=ORDER_TAGS,
        operation_id="orders_cancel",
        request=None,
        responses={200: OrderOutputSerializer, **error_responses(409)},
        description="Cancel an open order. A closed order is a 409 with the exchange's unknown-order error.",
    )
    def post(self, request: Request, pk: int) -> Response:
        order = own_order(request, pk)
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        order = order_cancel(order=order, actor=request.user, source="api", source_ip=client_ip(request))
        return Response(OrderOutputSerializer(order).data)


def _fills(request: Request) -> QuerySet[Fill]:
    params = _filters(FillFilterSerializer, request)
    fills = Fill.objects.filter(portfolio__owner=request.user)
    for name, lookup in (
        ("portfolio", "portfolio_id"),
        ("order", "order_id"),
        ("side", "side"),
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lte"),
    ):
        if name in params:
            fills = fills.filter(**{lookup: params[name]})
    if params.get("symbol"):
        fills = fills.filter(symbol=params["symbol"].upper())
    return fills


class FillListApi(ListAPIView):
    serializer_class = FillOutputSerializer

    def get_queryset(self) -> QuerySet[Fill]:
        return ordering_apply(_fills(self.request), request=self.request, allowed=FILL_ORDERING, default="-id")

    @extend_schema(
        tags=FILL_TAGS,
        operation_id="fills_list",
        parameters=[FillFilterSerializer, ordering_parameter(FILL_ORDERING, "-id")],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class FillExportApi(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        tags=FILL_TAGS,
        operation_id="fills_export_csv",
        parameters=[FillExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, one fill per row.")},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        portfolio = own_portfolio(request, _filters(FillExportQuerySerializer, request)["portfolio"])
        rows = selectors.csv_stream(
            header=selectors.FILL_EXPORT_HEADER, rows=selectors.fill_export_rows(portfolio=portfolio)
        )
        response = StreamingHttpResponse(rows, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="fills-portfolio-{portfolio.pk}.csv"'
        return response
