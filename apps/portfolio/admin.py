"""Admin: portfolios, orders and fills. The ledger is read-only; orders placed here go
through ``order_place`` like every other caller (safety guard, filters, audit)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.core.client_ip import client_ip
from apps.core.exceptions import ApplicationError
from apps.portfolio.models import Balance, EquitySnapshot, Fill, Journal, LedgerEntry, Order, Portfolio, Position


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class BalanceInline(admin.TabularInline):
    model = Balance
    extra = 0
    can_delete = False
    readonly_fields = ("asset", "free", "locked")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "exchange", "quote_asset", "fee_discount", "latency_ms", "created_at")
    list_filter = ("exchange",)
    search_fields = ("name", "owner__username")
    readonly_fields = ("starting_balances", "order_seq", "reset_at", "created_at")
    inlines = [BalanceInline]
    actions = ["reset_portfolios"]

    def has_add_permission(self, request: Any) -> bool:
        return False  # created through portfolio_create (pages/API), which posts the deposits

    @admin.action(description="Reset selected portfolios to their starting balances")
    def reset_portfolios(self, request: Any, queryset: Any) -> None:
        from apps.portfolio.services import portfolio_reset

        for portfolio in queryset:
            portfolio_reset(portfolio=portfolio, actor=request.user, confirm=True)
        self.message_user(request, f"{queryset.count()} portfolio(s) reset.", messages.SUCCESS)


class OrderAddForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = (
            "portfolio", "symbol", "side", "order_type", "time_in_force", "quantity", "quote_quantity", "price",
            "stop_price", "client_order_id",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client_order_id"].required = False
        self.placed: Order | None = None
        self.request: Any = None

    def _post_clean(self) -> None:
        # The service is the validation: it runs in one transaction, so a refusal writes nothing.
        from apps.portfolio.services import order_place

        data = self.cleaned_data
        if self.errors:
            return
        try:
            self.placed = order_place(
                portfolio=data["portfolio"],
                actor=getattr(self.request, "user", None),
                symbol=data["symbol"],
                side=data["side"],
                order_type=data["order_type"],
                quantity=data.get("quantity"),
                quote_quantity=data.get("quote_quantity"),
                price=data.get("price"),
                stop_price=data.get("stop_price"),
                time_in_force=data.get("time_in_force") or "GTC",
                client_order_id=data.get("client_order_id") or None,
                source="admin",
                source_ip=client_ip(getattr(self, "request", None)),
            )
        except ApplicationError as error:
            self.add_error(None, ValidationError(f"{error.code}: {error.message}"))


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "portfolio", "symbol", "side", "order_type", "status", "quantity", "price", "filled_qty")
    list_filter = ("status", "order_type", "exchange")
    search_fields = ("client_order_id", "symbol")
    actions = ["cancel_orders"]

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = OrderAddForm
            form = super().get_form(request, obj, change=change, **kwargs)

            class _Bound(form):  # type: ignore[misc,valid-type]
                def __init__(self, *a: Any, **kw: Any) -> None:
                    super().__init__(*a, **kw)
                    self.request = request

            return _Bound
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return [f.name for f in Order._meta.fields]

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: Order, form: Any, change: bool) -> None:
        if change:
            return  # orders change only through the services
        placed = form.placed
        obj.pk = placed.pk
        obj.__dict__.update({k: v for k, v in placed.__dict__.items() if not k.startswith("_")})

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        return

    @admin.action(description="Cancel selected open orders")
    def cancel_orders(self, request: Any, queryset: Any) -> None:
        from apps.portfolio.services.cancels import order_cancel

        canceled = 0
        for order in queryset.filter(status__in=Order.OPEN_STATUSES):
            order_cancel(order=order, actor=request.user, source="admin")
            canceled += 1
        self.message_user(request, f"{canceled} order(s) canceled.", messages.SUCCESS)


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "symbol", "side", "price", "quantity", "fee", "fee_asset", "liquidity", "rule")
    list_filter = ("liquidity", "rule")


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = ("id", "portfolio", "kind", "order", "memo", "created_at")
    list_filter = ("kind",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "journal", "portfolio", "asset", "account", "amount")
    list_filter = ("account", "asset")


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ("portfolio", "symbol", "quantity", "avg_cost", "realized_pnl", "fees_paid")


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("portfolio", "ts", "equity", "cash", "positions_value", "reason")
