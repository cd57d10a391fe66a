"""Prometheus metrics for bots. Gauges are refreshed from the database after every status
change (cheap: one grouped count), so every process reports the same numbers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BOTS_RUNNING = Gauge("ptp_bots_running", "Bots in status running")
BOTS_ERRORED = Gauge("ptp_bots_errored", "Bots in status error (paused by a failure)")
EVALUATIONS = Counter("ptp_bot_evaluations_total", "Bot candle evaluations by outcome", ["outcome"])


def bots_gauges_refresh() -> None:
    from django.db.models import Count

    from apps.bots.models import Bot

    counts = dict(Bot.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    BOTS_RUNNING.set(counts.get(Bot.Status.RUNNING, 0))
    BOTS_ERRORED.set(counts.get(Bot.Status.ERROR, 0))


def evaluation_observed(outcome: str) -> None:
    EVALUATIONS.labels(outcome=outcome).inc()
