"""Bot pages: list, create/edit with live parameter validation, controls, detail, backtests."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.bots import forms as bot_forms
from apps.bots.models import Bot
from apps.core.exceptions import ApplicationError, NotFoundError


def _own_bot(request: HttpRequest, bot_id: int) -> Bot:
    from apps.bots.selectors import bot_get

    try:
        return bot_get(owner=request.user, bot_id=bot_id)
    except NotFoundError:
        raise Http404("No such bot.") from None


@login_required
def bot_list_view(request: HttpRequest) -> HttpResponse:
    from apps.bots.selectors import bot_list, bot_performance_get

    bots = bot_list(owner=request.user).select_related("portfolio").order_by("name")
    rows = [{"bot": bot, "performance": bot_performance_get(bot=bot)} for bot in bots]
    return render(request, "bots/list.html", {"rows": rows})


def _form_context(
    request: HttpRequest,
    *,
    strategy: str,
    data: Any,
    errors: dict[str, list[str]] | None = None,
    bot: Bot | None = None,
    initial: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from apps.bots.strategies.registry import strategy_describe

    bot_form, params_form, risk_form = bot_forms.config_forms(
        user=request.user, strategy=strategy, data=data, initial=initial
    )
    return {
        "bot": bot,
        "bot_form": bot_form,
        "params_form": params_form,
        "risk_form": risk_form,
        "strategy": strategy_describe(strategy),
        "errors": errors or {},
        "input_names": bot_forms.all_input_names(strategy),
    }


def _save(request: HttpRequest, bot: Bot | None) -> Bot:
    from apps.bots.services.bots import bot_create, bot_update

    values = bot_forms.bot_values(request.POST, user=request.user)
    if bot is None:
        return bot_create(owner=request.user, **values)
    return bot_update(bot=bot, actor=request.user, data=values)


def _config_page(request: HttpRequest, bot: Bot | None) -> HttpResponse:
    default_strategy = bot.strategy if bot else None
    if request.method == "POST":
        strategy = bot_forms.strategy_from(request.POST, default_strategy)
        try:
            saved = _save(request, bot)
        except ApplicationError as exc:
            errors = bot_forms.field_errors(exc.fields) or {"form": [exc.message]}
            context = _form_context(request, strategy=strategy, data=request.POST, errors=errors, bot=bot)
            return render(request, "bots/form.html", context, status=400)
        messages.success(request, f"Bot “{saved.name}” saved.")
        return redirect("bot-detail", bot_id=saved.pk)
    strategy = bot_forms.strategy_from(request.GET, default_strategy)
    initial = None
    data = None
    if bot is not None:
        initial = {"name": bot.name, "portfolio": bot.portfolio_id, "symbol": bot.symbol, "timeframe": bot.timeframe}
        initial["strategy"] = bot.strategy
        if strategy == bot.strategy:
            data = _bound_from_bot(bot)
    context = _form_context(request, strategy=strategy, data=data, bot=bot, initial=initial)
    return render(request, "bots/form.html", context)


def _bound_from_bot(bot: Bot) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": bot.name,
        "portfolio": str(bot.portfolio_id),
        "symbol": bot.symbol,
        "timeframe": bot.timeframe,
        "strategy": bot.strategy,
    }
    for prefix, values in (("params", bot.params), ("risk", bot.risk)):
        for key, value in (values or {}).items():
            if value is True:
                data[f"{prefix}-{key}"] = "on"
            elif value not in (False, None):
                data[f"{prefix}-{key}"] = str(value)
    return data


@login_required
def bot_create_view(request: HttpRequest) -> HttpResponse:
    return _config_page(request, None)


@login_required
def bot_edit_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    return _config_page(request, _own_bot(request, bot_id))


@login_required
@require_GET
def bot_params_fragment(request: HttpRequest) -> HttpResponse:
    """The strategy's parameter inputs, swapped in when the strategy select changes."""
    strategy = bot_forms.strategy_from(request.GET)
    context = _form_context(request, strategy=strategy, data=None)
    return render(request, "bots/_params.html", context)


@login_required
@require_POST
def bot_validate_view(request: HttpRequest) -> HttpResponse:
    """Live validation as the user types: out-of-band error slots for every input."""
    from apps.bots.services.bots import bot_validate

    values = bot_forms.bot_values(request.POST, user=request.user)
    portfolio = values["portfolio"]
    errors: dict[str, list[str]] = {}
    try:
        bot_validate(owner=request.user, exchange=getattr(portfolio, "exchange", "binance"), **values)
    except ApplicationError as exc:
        errors = bot_forms.field_errors(exc.fields)
    # An untouched name is not an error while typing the parameters.
    if not request.POST.get("name"):
        errors.pop("name", None)
    context = {"errors": errors, "input_names": bot_forms.all_input_names(values["strategy"])}
    return render(request, "bots/_errors_oob.html", context)


@login_required
@require_POST
def bot_action_view(request: HttpRequest, bot_id: int, action: str) -> HttpResponse:
    from apps.bots.services.bots import bot_pause, bot_start, bot_stop

    bot = _own_bot(request, bot_id)
    service = {"start": bot_start, "pause": bot_pause, "stop": bot_stop}.get(action)
    if service is None:
        raise Http404("Unknown action.")
    error = None
    try:
        bot = service(bot=bot, actor=request.user)
    except ApplicationError as exc:
        error = exc.message
    if request.headers.get("HX-Request"):
        return render(request, "bots/_controls.html", {"bot": bot, "control_error": error})
    if error:
        messages.error(request, error)
    return redirect("bot-detail", bot_id=bot.pk)


def _trading_context(bot: Bot) -> dict[str, Any]:
    from apps.bots.selectors import bot_fill_list, bot_performance_get
    from apps.portfolio.selectors import instrument_increments

    fills = list(bot_fill_list(bot=bot))
    tick, step = instrument_increments(exchange=bot.exchange).get(bot.symbol, (None, None))
    return {
        "performance": bot_performance_get(bot=bot, fills=fills),
        "fills": list(reversed(fills))[:TRADES_SHOWN],
        "fills_total": len(fills),
        "tick": tick,  # the bot's instrument: its trades' prices and quantities show to these
        "step": step,
    }


TRADES_SHOWN = 100


@login_required
def bot_detail_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    from apps.bots.selectors import backtest_list, bot_event_list, bot_run_list

    bot = _own_bot(request, bot_id)
    runs = bot_run_list(bot=bot)
    context = {
        "bot": bot,
        "events": bot_event_list(bot=bot, limit=100),
        "backtests": backtest_list(owner=request.user, bot=bot).order_by("-id")[:10],
        "runs_total": runs.count(),
        "runs_acted": runs.filter(action__in=("buy", "sell")).count(),
        **_trading_context(bot),
    }
    return render(request, "bots/detail.html", context)


@login_required
@require_GET
def bot_performance_fragment(request: HttpRequest, bot_id: int) -> HttpResponse:
    """The P&L figures and the trades table, re-fetched when the bot trades (and now and then,
    since the unrealized P&L follows the market)."""
    bot = _own_bot(request, bot_id)
    return render(request, "bots/_performance.html", {"bot": bot, "oob": True, **_trading_context(bot)})


@login_required
@require_POST
def bot_reconcile_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    """Paper versus backtest over the bot's live window: where the trades differ and why."""
    from apps.bots.services import bot_reconcile

    bot = _own_bot(request, bot_id)
    context: dict[str, Any] = {"bot": bot}
    try:
        context["result"] = bot_reconcile(bot=bot)
    except ApplicationError as exc:
        context["reconcile_error"] = exc.message
    return render(request, "bots/_reconcile.html", context)


@login_required
@require_POST
def backtest_start_view(request: HttpRequest, bot_id: int) -> HttpResponse:
    from apps.bots.services.backtests import backtest_create_for_bot
    from apps.bots.tasks import backtest_run_task

    bot = _own_bot(request, bot_id)
    try:
        backtest = backtest_create_for_bot(bot=bot, actor=request.user, enqueue=backtest_run_task.delay)
    except ApplicationError as exc:
        messages.error(request, f"Backtest not started: {exc.message}")
        return redirect("bot-detail", bot_id=bot.pk)
    return redirect("backtest-detail", backtest_id=backtest.pk)


@login_required
def backtest_detail_view(request: HttpRequest, backtest_id: int) -> HttpResponse:
    from apps.bots.selectors import backtest_get

    try:
        backtest = backtest_get(owner=request.user, backtest_id=backtest_id)
    except NotFoundError:
        raise Http404("No such backtest.") from None
    report = backtest.report or {}
    summary = [(k, v) for k, v in report.items() if isinstance(v, str | int | float | bool) or v is None]
    trades = report.get("trades") if isinstance(report.get("trades"), list) else []
    template = "bots/_backtest_body.html" if request.headers.get("HX-Request") else "bots/backtest.html"
    return render(request, template, {"backtest": backtest, "summary": summary, "trades": trades[:200]})
