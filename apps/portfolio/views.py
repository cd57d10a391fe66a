"""Portfolio pages: list, detail (live fragments), order ticket, cancel, trade history, CSV, settings actions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.client_ip import client_ip
from apps.core.exceptions import ApplicationError
from apps.core.formatting import plain
from apps.portfolio import selectors
from apps.portfolio.forms import FillFilterForm, OrderTicketForm, PortfolioCreateForm, PortfolioResetForm
from apps.portfolio.models import Order, Portfolio

FILLS_PER_PAGE = 25


def _own_portfolio(request: HttpRequest, portfolio_id: int) -> Portfolio:
    return get_object_or_404(Portfolio, pk=portfolio_id, owner=request.user)


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/list.html", {"rows": selectors.portfolio_summary_list(owner=request.user)})


def _holdings_context(portfolio: Portfolio) -> dict[str, Any]:
    equity = selectors.portfolio_equity_get(portfolio=portfolio)
    return {
        "portfolio": portfolio,
        "equity": equity,
        "balances": selectors.balance_list(portfolio=portfolio).order_by("asset"),
        "positions": selectors.position_list(portfolio=portfolio),
        "metrics": selectors.portfolio_metrics_get(portfolio=portfolio),
    }


def _with_increments(portfolio: Portfolio, rows: Any) -> list[Any]:
    """Each order or fill with its instrument's tick and step, so prices and quantities show
    to them (``{{ f.price|price:f.tick }}``)."""
    increments = selectors.instrument_increments(exchange=portfolio.exchange)
    rows = list(rows)
    for row in rows:
        row.tick, row.step = increments.get(row.symbol, (None, None))
    return rows


def _orders_context(portfolio: Portfolio) -> dict[str, Any]:
    orders = selectors.order_list(portfolio=portfolio, open_only=True)[:100]
    return {"portfolio": portfolio, "open_orders": _with_increments(portfolio, orders)}


def _fills_context(request: HttpRequest, portfolio: Portfolio) -> dict[str, Any]:
    form = FillFilterForm(request.GET or None)
    fills = form.apply(selectors.fill_list(portfolio=portfolio).order_by("-created_at", "-id"))
    page = Paginator(fills, FILLS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = _with_increments(portfolio, page.object_list)
    return {"portfolio": portfolio, "filter_form": form, "page": page, "query": _filter_query(request)}


def _filter_query(request: HttpRequest) -> str:
    """The trade-history filters as a query string (no page): the URL the page is at."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _charts_context(portfolio: Portfolio, holdings: dict[str, Any]) -> dict[str, Any]:
    series = selectors.equity_series(portfolio=portfolio, limit=500)
    allocation = {"labels": [portfolio.quote_asset], "values": [float(holdings["equity"].cash)]}
    for position in holdings["positions"]:
        if position.quantity and position.mark is not None:
            allocation["labels"].append(position.symbol.removesuffix(portfolio.quote_asset))
            allocation["values"].append(float(position.quantity * position.mark))
    equity = {"labels": [ts.isoformat() for ts, _ in series], "values": [float(value) for _, value in series]}
    # Carried in a data attribute of the holdings fragment: htmx drops <script> tags on swaps.
    return {
        "equity_chart": equity,
        "allocation_chart": allocation,
        "charts_json": json.dumps({"equity": equity, "allocation": allocation}),
    }


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _own_portfolio(request, portfolio_id)
    holdings = _holdings_context(portfolio)
    context = {
        **holdings,
        **_orders_context(portfolio),
        **_fills_context(request, portfolio),
        **_charts_context(portfolio, holdings),
    }
    return render(request, "portfolio/detail.html", context)


@login_required
def portfolio_holdings_fragment(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _own_portfolio(request, portfolio_id)
    holdings = _holdings_context(portfolio)
    # The charts' data travels with the fragment so they follow live fills too.
    return render(request, "portfolio/_holdings.html", {**holdings, **_charts_context(portfolio, holdings)})


@login_required
def portfolio_orders_fragment(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _own_portfolio(request, portfolio_id)
    return render(request, "portfolio/_orders.html", _orders_context(portfolio))


@login_required
def portfolio_fills_fragment(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _own_portfolio(request, portfolio_id)
    response = render(request, "portfolio/_fills.html", _fills_context(request, portfolio))
    # The filters live in the page's URL (reload, share, back): htmx replaces it, no history spam.
    query = _filter_query(request)
    response["HX-Replace-Url"] = reverse("portfolio-detail", args=[portfolio.pk]) + (f"?{query}" if query else "")
    return response


@login_required
@require_POST
def order_cancel_view(request: HttpRequest, portfolio_id: int, order_id: int) -> HttpResponse:
    from apps.portfolio.services.cancels import order_cancel

    portfolio = _own_portfolio(request, portfolio_id)
    order = get_object_or_404(Order, pk=order_id, portfolio=portfolio)
    try:
        order_cancel(order=order, actor=request.user, source="page", source_ip=client_ip(request))
    except ApplicationError as exc:
        messages.error(request, f"Order {order.pk} was not canceled: {exc.message}")
    if request.headers.get("HX-Request"):
        return render(request, "portfolio/_orders.html", _orders_context(portfolio))
    return redirect("portfolio-detail", portfolio_id=portfolio.pk)


@login_required
def portfolio_export_csv(request: HttpRequest, portfolio_id: int, kind: str) -> StreamingHttpResponse:
    portfolio = _own_portfolio(request, portfolio_id)
    # The export is what the trade history shows: the same filters (the URL's query string).
    form = FillFilterForm(request.GET or None)
    if kind == "orders":
        orders = form.apply(selectors.order_list(portfolio=portfolio), orders=True)
        header, rows = selectors.ORDER_EXPORT_HEADER, selectors.order_export_rows(portfolio=portfolio, orders=orders)
    else:
        fills = form.apply(selectors.fill_list(portfolio=portfolio))
        header, rows = selectors.FILL_EXPORT_HEADER, selectors.fill_export_rows(portfolio=portfolio, fills=fills)
    response = StreamingHttpResponse(selectors.csv_stream(header=header, rows=rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="portfolio-{portfolio.pk}-{kind}.csv"'
    return response


def _ticket_form(request: HttpRequest, exchange: str, symbol: str) -> OrderTicketForm:
    return OrderTicketForm(request.POST, user=request.user, exchange=exchange, symbol=symbol)


def _ticket_balances(order: Order) -> dict[str, dict[str, str]]:
    """The portfolio's free base and quote after the order: the ticket's "available" line."""
    from apps.portfolio.services.order_check import free_balance

    portfolio = order.portfolio
    assets = (order.base_asset, order.quote_asset)
    return {str(portfolio.pk): {a: plain(free_balance(portfolio=portfolio, asset=a)) for a in assets}}


@login_required
@require_POST
def order_ticket_validate(request: HttpRequest, exchange: str, symbol: str) -> HttpResponse:
    form = _ticket_form(request, exchange, symbol)
    return render(request, "portfolio/_ticket_feedback.html", {"form": form, "valid": form.is_valid()})


@login_required
@require_POST
def order_ticket_submit(request: HttpRequest, exchange: str, symbol: str) -> HttpResponse:
    from apps.portfolio.services.orders import order_place

    form = _ticket_form(request, exchange, symbol)
    order = None
    if form.is_valid():
        try:
            order = order_place(
                portfolio=form.cleaned_data["portfolio"],
                actor=request.user,
                source="page",
                source_ip=client_ip(request),
                **form.order_kwargs(),
            )
        except ApplicationError as error:
            form.add_application_error(error)
    context: dict[str, Any] = {"form": form, "valid": order is not None, "order": order}
    if order is not None:
        context["balances_json"] = json.dumps(_ticket_balances(order))
    response = render(request, "portfolio/_ticket_feedback.html", context)
    if order is not None:
        response["HX-Trigger"] = "paper-order-placed"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_create_view(request: HttpRequest) -> HttpResponse:
    """GET: the form on its own page. POST (also from the Settings page): create, or the form
    again with each error next to its field."""
    from apps.portfolio.services.portfolios import portfolio_create

    if request.method == "GET":
        return render(request, "portfolio/new.html", {"form": PortfolioCreateForm()})
    form = PortfolioCreateForm(request.POST)
    if form.is_valid():
        try:
            portfolio = portfolio_create(
                owner=request.user,
                name=form.cleaned_data["name"].strip(),
                exchange=form.cleaned_data["exchange"],
                starting_balances={"USDT": str(form.cleaned_data["starting_quote"])},
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Portfolio “{portfolio.name}” created.")
            return redirect("settings")
    return render(request, "portfolio/new.html", {"form": form}, status=400)


@login_required
@require_POST
def portfolio_reset_view(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    from apps.portfolio.services.portfolios import portfolio_reset

    portfolio = _own_portfolio(request, portfolio_id)
    form = PortfolioResetForm(request.POST, portfolio=portfolio)
    if form.is_valid():
        try:
            portfolio_reset(portfolio=portfolio, actor=request.user, confirm=True)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Portfolio “{portfolio.name}” reset to its starting balances.")
    else:
        messages.error(request, " ".join(form.errors.get("confirm_name", ["Confirmation missing."])))
    return redirect("settings")
