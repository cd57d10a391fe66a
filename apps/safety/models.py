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
        REFUSED = "refused"
        ERROR = "error"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    category = models.CharField(max_length=32, choices=Category.choices, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.OK, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="user name, bot id or process")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    portfolio_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    symbol = models.CharField(max_length=32, blank=True, db_index=True)
    exchange = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.category}/{self.action} {self.result}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError("the audit log is append-only: an event cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only: an event cannot be deleted")
