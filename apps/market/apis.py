"""Market data API: exchanges, instruments, tickers, candles (read-only, any signed-in user)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import query_data
from apps.core.api_schema import error_responses
from apps.core.api_serializers import money_str
from apps.core.exceptions import NotFoundError
from apps.market import cache as market_cache
from apps.market.api_reads import candle_rows_get, ticker_latest_get
from apps.market.events import TickerEvent
from apps.market.models import Exchange, Instrument
from apps.market.serializers import (
    MarketBookSerializer,
    MarketCandleQuerySerializer,
    MarketCandleSerializer,
    MarketExchangeSerializer,
    MarketInstrumentFilterSerializer,
    MarketInstrumentSerializer,
    MarketTickerFilterSerializer,
    MarketTickerSerializer,
    MarketTradeQuerySerializer,
    MarketTradeSerializer,
)

TAGS = ["markets"]
MARKET_PATH_PARAMETERS = [
    OpenApiParameter("exchange", str, OpenApiParameter.PATH, enum=Exchange.values),
    OpenApiParameter("symbol", str, OpenApiParameter.PATH, pattern="^[A-Za-z0-9]{2,32}$", description="e.g. BTCUSDT"),
]


def market_path_validate(*, exchange: str, symbol: str) -> tuple[str, str]:
    """Path values -> (exchange, SYMBOL); an unknown exchange is a 404 like any bad path."""
    if exchange not in Exchange.values:
        raise NotFoundError(f"Unknown exchange {exchange!r}.")
    return exchange, symbol.upper()


class MarketExchangeListApi(APIView):
    @extend_schema(
        tags=TAGS, operation_id="markets_exchanges_list", responses={200: MarketExchangeSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        data = [{"code": value, "name": label} for value, label in Exchange.choices]
        return Response(MarketExchangeSerializer(data, many=True).data)


class MarketInstrumentListApi(ListAPIView):
    serializer_class = MarketInstrumentSerializer

    @extend_schema(tags=TAGS, operation_id="markets_instruments_list", parameters=[MarketInstrumentFilterSerializer])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Instrument]:
        filters = MarketInstrumentFilterSerializer(data=query_data(self.request))
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        queryset = Instrument.objects.all()
        if "exchange" in params:
            queryset = queryset.filter(exchange=params["exchange"])
        if params.get("quote_asset"):
            queryset = queryset.filter(quote_asset=params["quote_asset"].upper())
        if params.get("active") is not None:
            queryset = queryset.filter(is_active=params["active"])
        if params.get("search"):
            queryset = queryset.filter(symbol__icontains=params["search"])
        return queryset.order_by("exchange", "symbol")


class MarketCandleListApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="markets_candles_list",
        parameters=[*MARKET_PATH_PARAMETERS, MarketCandleQuerySerializer],
        responses={200: MarketCandleSerializer(many=True), **error_responses(422)},
        description="Closed candles, oldest first. With `start`, the first `limit` candles from it; "
        "otherwise the latest `limit` candles up to `end` (or now). The latest candles may be up "
        "to a second old (served from memory). 422 when `end` is before `start`.",
    )
    def get(self, request: Request, exchange: str, symbol: str) -> Response:
        exchange, symbol = market_path_validate(exchange=exchange, symbol=symbol)
        query = MarketCandleQuerySerializer(data=query_data(request))
        query.is_valid(raise_exception=True)
        return Response(candle_rows_get(exchange=exchange, symbol=symbol, **query.validated_data))


def _ticker_data(ticker: TickerEvent) -> dict:
    # The MarketTickerSerializer shape, built directly: this is the hottest read endpoint.
    return {
        "exchange": ticker.exchange,
        "symbol": ticker.symbol,
        "last": money_str(ticker.last),
        "open": money_str(ticker.open),
        "high": money_str(ticker.high),
        "low": money_str(ticker.low),
        "volume": money_str(ticker.volume),
        "quote_volume": money_str(ticker.quote_volume),
        "change_pct": money_str(ticker.change_pct),
        "ts_ms": ticker.ts_ms,
    }


def _book_rows(levels: tuple) -> list[list[str]]:
    return [[str(price), str(quantity)] for price, quantity in levels]


class MarketTickerListApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="markets_tickers_list",
        parameters=[MarketTickerFilterSerializer],
        responses={200: MarketTickerSerializer(many=True)},
        description="Latest 24h tickers of the active instruments that have live data.",
    )
    def get(self, request: Request) -> Response:
        query = MarketTickerFilterSerializer(data=query_data(request))
        query.is_valid(raise_exception=True)
        instruments = Instrument.objects.filter(is_active=True).order_by("exchange", "symbol")
        if "exchange" in query.validated_data:
            instruments = instruments.filter(exchange=query.validated_data["exchange"])
        pairs = instruments.values_list("exchange", "symbol")[:500]
        tickers = [t for t in (market_cache.ticker_get(e, s) for e, s in pairs) if t is not None]
        return Response([_ticker_data(ticker) for ticker in tickers])


class MarketTickerApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="markets_ticker_retrieve",
        parameters=MARKET_PATH_PARAMETERS,
        responses={200: MarketTickerSerializer},
        description="Latest 24h ticker from the live feed; 404 when the feed has none (yet).",
    )
    def get(self, request: Request, exchange: str, symbol: str) -> Response:
        exchange, symbol = market_path_validate(exchange=exchange, symbol=symbol)
        ticker = ticker_latest_get(exchange=exchange, symbol=symbol)
        if ticker is None:
            raise NotFoundError(f"No live ticker for {exchange}:{symbol}.")
        return Response(_ticker_data(ticker))


class MarketBookApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="markets_book_retrieve",
        parameters=MARKET_PATH_PARAMETERS,
        responses={200: MarketBookSerializer},
        description="Top of the order book from the live feed; 404 when the feed has none (yet).",
    )
    def get(self, request: Request, exchange: str, symbol: str) -> Response:
        exchange, symbol = market_path_validate(exchange=exchange, symbol=symbol)
        book = market_cache.book_get(exchange, symbol)
        if book is None:
            raise NotFoundError(f"No live book for {exchange}:{symbol}.")
        data = {
            "exchange": book.exchange,
            "symbol": book.symbol,
            "bids": _book_rows(book.bids),
            "asks": _book_rows(book.asks),
            "ts_ms": book.ts_ms,
        }
        return Response(MarketBookSerializer(data).data)


class MarketTradeListApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="markets_trades_list",
        parameters=[*MARKET_PATH_PARAMETERS, MarketTradeQuerySerializer],
        responses={200: MarketTradeSerializer(many=True)},
        description="Most recent public trades from the live feed, newest first.",
    )
    def get(self, request: Request, exchange: str, symbol: str) -> Response:
        exchange, symbol = market_path_validate(exchange=exchange, symbol=symbol)
        query = MarketTradeQuerySerializer(data=query_data(request))
        query.is_valid(raise_exception=True)
        trades = market_cache.recent_trades_get(exchange, symbol, limit=query.validated_data["limit"])
        return Response(MarketTradeSerializer(trades, many=True).data)
