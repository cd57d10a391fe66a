from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("the audit log is append-only: update refused")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only: delete refused")


class AuditEvent(models.Model):
    """Append-only record of every trade attempt, order, fill, config change and safety event."""

    class Category(models.TextChoices):
        TRADE_ATTEMPT = "trade_attempt"
        ORDER = "order"
        FILL = "fill"
        CONFIG = "config"
        SAFETY = "safety"
        AUTH = "auth"
        BOT = "bot"

    class Result(models.TextChoices):
        OK = "ok"
        REFUSED = "refused"  # a request for real execution, stopped by a safety layer
        REJECTED = "rejected"  # an ordinary exchange rejection (balance, filters, unknown order)
        ERROR = "error"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    action = models.CharField(max_length=64)
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.OK)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="user name, bot id or process")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    portfolio_id = models.BigIntegerField(null=True, blank=True)
    symbol = models.CharField(max_length=32, blank=True)
    exchange = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every order and fill writes a row here, so each index costs on the order hot path.
        # The audit trail is read newest first, filtered by one of these (then by time);
        # low-cardinality filters (result, action) ride on them. Single-column indexes on
        # category/action/result/symbol (each with a LIKE twin) were 8 index writes per row.
        indexes = [
            models.Index(fields=["actor", "created_at"]),
            models.Index(fields=["portfolio_id", "created_at"], name="audit_portfolio_time"),
            models.Index(fields=["category", "created_at"], name="audit_category_time"),
            models.Index(fields=["symbol", "created_at"], name="audit_symbol_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.category}/{self.action} {self.result}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("the audit log is append-only: an event cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only: an event cannot be deleted")
