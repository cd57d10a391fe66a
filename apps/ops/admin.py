from __future__ import annotations

from django.contrib import admin

from apps.ops.models import AlertNotification, AlertRule, NotificationPreference


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "min_severity", "enabled", "email_to", "webhook_url", "max_per_hour", "source")
    list_filter = ("enabled", "kind", "min_severity", "source")
    search_fields = ("name", "email_to", "webhook_url")
    readonly_fields = ("source", "created_at", "updated_at")


@admin.register(AlertNotification)
class AlertNotificationAdmin(admin.ModelAdmin):
    """A delivery log: read-only."""

    list_display = ("created_at", "kind", "severity", "channel", "status", "title", "rule")
    list_filter = ("status", "channel", "kind", "severity")
    search_fields = ("title", "dedup_key", "message")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Traders set these on the settings page; the backing rule is kept in sync there."""

    list_display = ("user", "email_enabled", "email", "webhook_url", "kinds", "updated_at")
    search_fields = ("user__username", "email", "webhook_url")
    readonly_fields = ("rule", "created_at", "updated_at")
