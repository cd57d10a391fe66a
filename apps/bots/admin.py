"""Admin for bots (params and risk validated by the declarations), events and backtests.
Status changes go through the services, so they are audited and pushed like any other."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.bots.models import Backtest, Bot, BotCandleRun, BotEvent
from apps.bots.risk import RISK_PARAMS, risk_clean
from apps.bots.strategies import ParamsInvalid, params_to_json, strategy_choices, strategy_clean_params
from apps.core.exceptions import ApplicationError


def _describe(params: Any) -> str:
    return "; ".join(f"{p.name} ({p.kind}, default {p.default}): {p.help}" for p in params)


class BotAdminForm(forms.ModelForm):
    strategy = forms.ChoiceField(choices=strategy_choices)

    class Meta:
        model = Bot
        fields = ("owner", "portfolio", "name", "exchange", "symbol", "timeframe", "strategy", "params", "risk")
        help_texts = {"risk": _describe(RISK_PARAMS)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        strategy = cleaned.get("strategy")
        if strategy:
            try:
                cleaned["params"] = params_to_json(strategy_clean_params(strategy, cleaned.get("params") or {}))
            except ParamsInvalid as exc:
                self.add_error("params", [f"{k}: {' '.join(v)}" for k, v in exc.errors.items()])
        try:
            settings = risk_clean(cleaned.get("risk") or {})
            cleaned["risk"] = params_to_json({p.name: getattr(settings, p.name) for p in RISK_PARAMS})
        except ParamsInvalid as exc:
            self.add_error("risk", [f"{k}: {' '.join(v)}" for k, v in exc.errors.items()])
        portfolio = cleaned.get("portfolio")
        if portfolio is not None and cleaned.get("exchange") and portfolio.exchange != cleaned["exchange"]:
            self.add_error("exchange", f"The portfolio trades on {portfolio.exchange}.")
        return cleaned


class BotEventInline(admin.TabularInline):
    model = BotEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "message", "candle_open_ms")
    readonly_fields = fields
    ordering = ("-id",)
    max_num = 0


def _lifecycle_action(service_name: str, label: str) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        from apps.bots import services

        service = getattr(services, service_name)
        for bot in queryset:
            try:
                service(bot=bot, actor=request.user)
            except ApplicationError as error:
                modeladmin.message_user(request, f"{bot}: {error.message}", level=messages.ERROR)

    action.__name__ = service_name
    action.short_description = label  # type: ignore[attr-defined]
    return action


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    form = BotAdminForm
    list_display = (
        "name",
        "owner",
        "strategy",
        "exchange",
        "symbol",
        "timeframe",
        "status",
        "status_reason",
        "updated_at",
    )
    list_filter = ("status", "strategy", "exchange", "timeframe")
    search_fields = ("name", "symbol", "owner__username")
    readonly_fields = ("status", "status_reason", "state", "last_candle_ms", "created_at", "updated_at")
    raw_id_fields = ("owner", "portfolio")
    inlines = [BotEventInline]
    actions = [
        _lifecycle_action("bot_start", "Start selected bots"),
        _lifecycle_action("bot_pause", "Pause selected bots"),
        _lifecycle_action("bot_stop", "Stop selected bots"),
    ]


@admin.register(BotEvent)
class BotEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "bot", "kind", "message", "candle_open_ms")
    list_filter = ("kind",)
    search_fields = ("message", "bot__name")
    readonly_fields = ("bot", "kind", "message", "data", "candle_open_ms", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BotCandleRun)
class BotCandleRunAdmin(admin.ModelAdmin):
    list_display = ("bot", "candle_open_ms", "status", "action", "reason", "order")
    list_filter = ("status", "action")
    readonly_fields = ("bot", "candle_open_ms", "status", "action", "reason", "order", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "strategy", "symbol", "timeframe", "status", "progress", "trade_hash", "created_at")
    list_filter = ("status", "strategy")
    readonly_fields = ("status", "progress", "error", "trade_hash", "report", "finished_at", "created_at", "updated_at")
    raw_id_fields = ("owner", "bot")
