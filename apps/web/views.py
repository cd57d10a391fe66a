"""The pages that compose several apps: dashboard, status, settings and the market page with
its paper order ticket. Each app's own pages (portfolio, bots, safety) stay in that app."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.exceptions import ApplicationError
from apps.market.cache import book_get, recent_trades_get, ticker_get
from apps.market.indicators.selectors import indicator_series_get
from apps.market.models import TIMEFRAME_MS, Candle, Exchange, Instrument, Timeframe
from apps.ops.preferences import notification_preference_get, notification_preference_save
from apps.portfolio.forms import OrderTicketForm, PortfolioCreateForm
from apps.portfolio.models import Portfolio
from apps.portfolio.selectors import portfolio_summary_list
from apps.safety.selectors import safety_status_get
from apps.web import pages
from apps.web.forms import NotificationPrefsForm

CHART_CANDLES = 300
INDICATOR_KEYS = ("bb_upper", "bb_middle", "bb_lower", "rsi", "macd", "macd_signal", "macd_hist")


def home(request: HttpRequest) -> HttpResponse:
    # Public market overview; the portfolio and bot panels only for a signed-in trader.
    signed_in = request.user.is_authenticated
    context = {
        **pages.feeds_context(),
        "watchlist": pages.watchlist_rows(),
        "portfolios": portfolio_summary_list(owner=request.user) if signed_in else [],
        "bots": pages.running_bots(owner=request.user) if signed_in else [],
    }
    return render(request, "web/home.html", context)


def feeds_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "web/_feeds.html", pages.feeds_context())


@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    template = "web/_status_body.html" if request.headers.get("HX-Request") else "web/status.html"
    context = {
        "components": pages.status_components(),
        **pages.feeds_context(),
        "safety": safety_status_get(),
        "alerts": pages.recent_alerts(),
    }
    return render(request, template, context)


def _settings_page(request: HttpRequest, *, prefs_form: Any = None, status: int = 200) -> HttpResponse:
    if prefs_form is None:
        preference = notification_preference_get(user=request.user)
        prefs_form = NotificationPrefsForm(user=request.user, preference=preference)
    context = {
        "portfolios": Portfolio.objects.filter(owner=request.user).order_by("name"),
        "create_form": PortfolioCreateForm(),
        "prefs_form": prefs_form,
    }
    return render(request, "web/settings.html", context, status=status)


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
def notification_prefs_save(request: HttpRequest) -> HttpResponse:
    form = NotificationPrefsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            preference = notification_preference_save(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.apply_errors(exc.fields or {"__all__": [exc.message]})
        else:
            messages.success(request, "Notification preferences saved.")
            if preference.new_signing_secret:  # shown this once; deliveries are signed with it
                messages.info(
                    request, f"Webhook signing secret (shown once, store it now): {preference.new_signing_secret}"
                )
            return redirect("settings")
    # Invalid: the page again with the errors next to the fields, nothing saved.
    return _settings_page(request, prefs_form=form, status=400)


def _checked(exchange: str, symbol: str) -> tuple[str, str]:
    symbol = symbol.upper()
    if exchange not in Exchange.values or not symbol.isalnum() or len(symbol) > 32:
        raise Http404("No such market.")
    return exchange, symbol


def market_index(request: HttpRequest) -> HttpResponse:
    return redirect("market-page", exchange="binance", symbol=settings.MARKET_SYMBOLS[0])


def _not_listed(request: HttpRequest, exchange: str, symbol: str) -> HttpResponse:
    label = Exchange(exchange).label
    message = f"{symbol} is not listed on {label}: there is no market to chart or trade."
    return render(request, "errors/404.html", {"message": message}, status=404)


@login_required
def market_page(request: HttpRequest, exchange: str, symbol: str) -> HttpResponse:
    exchange, symbol = _checked(exchange, symbol)
    instrument = Instrument.objects.filter(exchange=exchange, symbol=symbol).first()
    if instrument is None:
        return _not_listed(request, exchange, symbol)
    ticket = OrderTicketForm(user=request.user, exchange=exchange, symbol=symbol)
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
        "ticket": ticket,
        "instrument": instrument,
        "ticket_balances": json.dumps(pages.ticket_balances(ticket=ticket, instrument=instrument)),
    }
    return render(request, "web/market.html", context)


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
    exchange, symbol = _checked(exchange, symbol)
    if not Instrument.objects.filter(exchange=exchange, symbol=symbol).exists():
        message = f"{symbol} is not listed on {Exchange(exchange).label}."
        return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)
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
