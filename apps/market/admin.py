from __future__ import annotations

from django.contrib import admin

from apps.market.models import Candle, Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    """``is_active`` is the feed's symbol list: tick it to stream the pair (feeds pick it up on
    their next start; the default set is MARKET_SYMBOLS)."""

    list_display = (
        "exchange",
        "symbol",
        "exchange_symbol",
        "status",
        "tick_size",
        "step_size",
        "min_notional",
        "is_active",
    )
    list_editable = ("is_active",)
    list_filter = ("exchange", "is_active", "status", "quote_asset")
    search_fields = ("symbol", "exchange_symbol", "base_asset")
    readonly_fields = ("updated_at",)


@admin.register(Candle)
class CandleAdmin(admin.ModelAdmin):
    list_display = ("exchange", "symbol", "timeframe", "open_time", "open", "high", "low", "close", "volume")
    list_filter = ("exchange", "timeframe")
    search_fields = ("symbol",)
    date_hierarchy = "open_time"

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # candles come from the exchanges only

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
