from __future__ import annotations

from django.conf import settings
from django.db import models


class Severity(models.TextChoices):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertKind(models.TextChoices):
    ANY = "*", "any kind"
    SAFETY_VIOLATION = "safety_violation"
    FEED_DOWN = "feed_down"
    BOT_ERROR = "bot_error"
    KILL_SWITCH = "kill_switch"
    ERROR_RATE = "error_rate"
    DEPENDENCY_DOWN = "dependency_down"  # Postgres, Redis or the broker (apps.ops.monitor)
    OTHER = "other"


class AlertRule(models.Model):
    """Who hears about which alerts, how often. Rules from settings are synced in with
    source="settings" (edits to those in the admin are overwritten at the next sync)."""

    class Source(models.TextChoices):
        ADMIN = "admin"
        SETTINGS = "settings"
        USER = "user"  # backs a NotificationPreference: receives only that user's alerts

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=AlertKind.choices, default=AlertKind.ANY)
    min_severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    enabled = models.BooleanField(default=True)
    email_to = models.TextField(blank=True, help_text="comma-separated recipients")
    webhook_url = models.URLField(blank=True)
    page = models.BooleanField(default=False, help_text="also listed on the status page (the in-app channel)")
    # Signs a trader's (source "user") webhook; shown to them once. Operator rules are signed
    # with ALERT_WEBHOOK_SECRET.
    signing_secret = models.CharField(max_length=64, blank=True, editable=False)
    dedup_seconds = models.PositiveIntegerField(
        default=900, help_text="the same dedup key is sent at most once in this window"
    )
    max_per_hour = models.PositiveIntegerField(default=20, help_text="rate limit per rule and channel")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind} >= {self.min_severity})"

    def email_recipients(self) -> list[str]:
        return [address.strip() for address in self.email_to.split(",") if address.strip()]


# The alerts a trader can subscribe to about their own bots (the rest are operators' alerts).
USER_ALERT_KINDS = (AlertKind.BOT_ERROR, AlertKind.KILL_SWITCH)


class NotificationPreference(models.Model):
    """A trader's alerts about their own bots, by email and/or webhook (the settings page).

    Delivery reuses the alert machinery through a backing AlertRule (source "user", kept in
    sync by ``apps.ops.services.notification_preference_save``) so de-duplication, rate limits
    and the delivery log work the same as for operators' rules."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    # Set by notification_preference_save when a signing secret was just made (shown once).
    new_signing_secret: str | None = None
    email_enabled = models.BooleanField(default=False)
    email = models.EmailField(blank=True, help_text="blank: the account's address")
    webhook_url = models.URLField(blank=True)
    kinds = models.JSONField(default=list, blank=True, help_text="subset of the user alert kinds")
    rule = models.OneToOneField(
        AlertRule, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="preference"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notifications of user {self.user_id}: {', '.join(self.kinds) or 'none'}"

    def email_address(self) -> str:
        return self.email or getattr(self.user, "email", "") or ""


class AlertNotification(models.Model):
    """One alert for one rule and channel: sent, or the reason it was not."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"
        PAGE = "page"  # the status page: stored is delivered

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        DUPLICATE = "duplicate"
        RATE_LIMITED = "rate_limited"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    kind = models.CharField(max_length=32, db_index=True)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    dedup_key = models.CharField(max_length=200, db_index=True)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rule", "channel", "dedup_key", "created_at"], name="alert_dedup")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.channel} {self.kind} {self.status}"
