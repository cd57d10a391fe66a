"""Bots, their event log, per-candle runs (idempotency) and backtests."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.money import money_field
from apps.market.models import Exchange, Timeframe


class Bot(TimeStampedModel):
    class Status(models.TextChoices):
        RUNNING = "running"
        PAUSED = "paused"
        STOPPED = "stopped"
        ERROR = "error"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bots")
    portfolio = models.ForeignKey("portfolio.Portfolio", on_delete=models.CASCADE, related_name="bots")
    name = models.CharField(max_length=100)
    exchange = models.CharField(max_length=16, choices=Exchange.choices, default=Exchange.BINANCE)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices, default=Timeframe.M1)
    strategy = models.CharField(max_length=64, help_text="a name from apps.bots.strategies")
    params = models.JSONField(default=dict, blank=True, help_text="validated by the strategy's declaration")
    risk = models.JSONField(default=dict, blank=True, help_text="validated by apps.bots.risk.RISK_PARAMS")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STOPPED, db_index=True)
    status_reason = models.CharField(max_length=500, blank=True)
    state = models.JSONField(default=dict, blank=True, help_text="the bot's own position (apps.bots.risk.BotState)")
    last_candle_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="uniq_bot_owner_name")]
        indexes = [models.Index(fields=["exchange", "symbol", "timeframe", "status"], name="bot_feed_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.strategy} {self.exchange}:{self.symbol} {self.timeframe})"


class BotEvent(models.Model):
    class Kind(models.TextChoices):
        SIGNAL = "signal"
        ORDER = "order"
        ERROR = "error"
        STATE = "state"
        RISK = "risk"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    candle_open_ms = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["bot", "-id"], name="botevent_recent")]

    def __str__(self) -> str:
        return f"{self.bot_id} {self.kind}: {self.message}"


class BotCandleRun(models.Model):
    """One evaluation of one bot on one closed candle. The unique constraint is what makes a
    duplicated or retried task a no-op."""

    class Status(models.TextChoices):
        STARTED = "started"
        DONE = "done"
        ERROR = "error"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="candle_runs")
    candle_open_ms = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    action = models.CharField(max_length=8, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    order = models.ForeignKey("portfolio.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-candle_open_ms"]
        constraints = [models.UniqueConstraint(fields=["bot", "candle_open_ms"], name="uniq_bot_candle_run")]

    def __str__(self) -> str:
        return f"bot {self.bot_id} candle {self.candle_open_ms}: {self.status} {self.action}"


class Backtest(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        ERROR = "error"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    bot = models.ForeignKey(Bot, null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests")
    strategy = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    risk = models.JSONField(default=dict, blank=True)
    exchange = models.CharField(max_length=16, choices=Exchange.choices, default=Exchange.BINANCE)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=4, choices=Timeframe.choices, default=Timeframe.M1)
    start_ms = models.BigIntegerField(null=True, blank=True)
    end_ms = models.BigIntegerField(null=True, blank=True)
    initial_quote = money_field(default=Decimal("10000"))
    seed = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    error = models.TextField(blank=True)
    trade_hash = models.CharField(max_length=64, blank=True)
    report = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"backtest #{self.pk} {self.strategy} {self.symbol} {self.status} {self.progress}%"
