"""Operations metrics (names prefixed ptp_). Labels are bounded: task names, queue names,
WebSocket route names; never ids."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBSOCKET_CLIENTS = Gauge(
    "ptp_websocket_clients",
    "Open WebSocket connections by route",
    ["route"],
    multiprocess_mode="livesum",
)
CELERY_TASKS = Counter("ptp_celery_tasks_total", "Celery tasks finished, by task and final state", ["task", "state"])
CELERY_TASK_DURATION = Histogram(
    "ptp_celery_task_duration_seconds",
    "Celery task run time",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
CELERY_TASK_FAILURES = Counter("ptp_celery_task_failures_total", "Celery tasks that raised", ["task", "exception"])
ALERTS = Counter("ptp_alerts_total", "Application alerts by kind and admission status", ["kind", "status"])
# ptp_celery_queue_depth is a scrape-time collector (apps.ops.queue_depth), not a Gauge here.


def websocket_client_connected(*, route: str) -> None:
    WEBSOCKET_CLIENTS.labels(route=route).inc()


def websocket_client_disconnected(*, route: str) -> None:
    WEBSOCKET_CLIENTS.labels(route=route).dec()


class WebSocketClientsMetricMixin:
    """Mix into a Channels consumer (before the consumer class) to count its open sockets.

    class MarketConsumer(WebSocketClientsMetricMixin, AsyncJsonWebsocketConsumer):
        metrics_route = "market"
    """

    metrics_route = "other"
    _metrics_counted = False

    async def websocket_connect(self, message: dict) -> None:
        websocket_client_connected(route=self.metrics_route)
        self._metrics_counted = True
        await super().websocket_connect(message)  # type: ignore[misc]

    async def websocket_disconnect(self, message: dict) -> None:
        if self._metrics_counted:
            websocket_client_disconnected(route=self.metrics_route)
            self._metrics_counted = False
        await super().websocket_disconnect(message)  # type: ignore[misc]
