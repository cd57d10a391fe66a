"""The market page: chart, indicators, book, trades and the paper order ticket."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.market.models import TIMEFRAME_MS, Exchange, Timeframe

CHART_CANDLES = 300
INDICATOR_KEYS = ("bb_upper", "bb_middle", "bb_lower", "rsi", "macd", "macd_signal", "macd_hist")


def _checked(exchange: str, symbol: str) -> tuple[str, str]:
    symbol = symbol.upper()
    if exchange not in Exchange.values or not symbol.isalnum() or len(symbol) > 32:
        raise Http404("No such market.")
    return exchange, symbol


def market_index(request: HttpRequest) -> HttpResponse:
    return redirect("market-page", exchange="binance", symbol=settings.MARKET_SYMBOLS[0])


@login_required
def market_page(request: HttpRequest, exchange: str, symbol: str) -> HttpResponse:
    from apps.market.cache import book_get, recent_trades_get, ticker_get
    from apps.portfolio.forms import OrderTicketForm

    exchange, symbol = _checked(exchange, symbol)
    timeframe = request.GET.get("tf", "1m")
    if timeframe not in Timeframe.values:
        timeframe = "1m"
    book = book_get(exchange, symbol)
    context: dict[str, Any] = {
        "exchange": exchange,
        "exchange_label": Exchange(exchange).label,
        "symbol": symbol,
        "timeframe": timeframe,
        "timeframes": Timeframe.values,
        "ticker": ticker_get(exchange, symbol),
        "bids": list(book.bids[:12]) if book else [],
        "asks": list(book.asks[:12]) if book else [],
        "trades": recent_trades_get(exchange, symbol, min(25, settings.MARKET_RECENT_TRADES)),
        "markets": [(ex, sym) for ex in Exchange.values for sym in settings.MARKET_SYMBOLS],
        "ticket": OrderTicketForm(user=request.user, exchange=exchange, symbol=symbol),
    }
    return render(request, "market/page.html", context)


def _candle_row(candle: Any) -> dict[str, Any]:
    return {
        "time": int(candle.open_time.timestamp()),
        "open": float(candle.open),
        "high": float(candle.high),
        "low": float(candle.low),
        "close": float(candle.close),
        "volume": float(candle.volume),
    }


@login_required
@require_GET
def market_chart_data(request: HttpRequest, exchange: str, symbol: str) -> JsonResponse:
    """Closed candles and their indicator values for the chart (floats: display only)."""
    from apps.market.indicators.selectors import indicator_series_get
    from apps.market.models import Candle

    exchange, symbol = _checked(exchange, symbol)
    timeframe = request.GET.get("tf", "1m")
    if timeframe not in Timeframe.values:
        return JsonResponse({"error": {"code": "invalid", "message": "Unknown timeframe."}}, status=400)
    recent = Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe).order_by("-open_time")
    candles = [_candle_row(c) for c in reversed(list(recent[:CHART_CANDLES]))]
    indicators = []
    if candles:
        series = indicator_series_get(
            exchange=exchange,
            symbol=symbol,
            timeframe=timeframe,
            start_ms=candles[0]["time"] * 1000,
            limit=CHART_CANDLES,
        )
        indicators = [
            {"time": row["open_time_ms"] // 1000, **{k: row.get(k) for k in INDICATOR_KEYS}} for row in series
        ]
    return JsonResponse(
        {
            "exchange": exchange,
            "symbol": symbol,
            "timeframe": timeframe,
            "interval_s": TIMEFRAME_MS[timeframe] // 1000,
            "candles": candles,
            "indicators": indicators,
        }
    )
