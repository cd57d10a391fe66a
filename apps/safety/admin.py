"""The audit log in the admin: searchable and filterable, never changed or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.safety.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "category", "action", "result", "actor_label", "source_ip", "exchange", "symbol")
    list_filter = ("result", "category", "exchange", "created_at")
    search_fields = ("action", "actor_label", "message", "symbol", "request_id", "source_ip")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
