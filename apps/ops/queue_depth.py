"""ptp_celery_queue_depth: messages waiting in each Celery queue, read from the broker at
scrape time (RabbitMQ: passive queue_declare; Redis: LLEN), cached briefly so a burst of
scrapes makes one broker round trip."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CACHE_SECONDS = 10.0


def _amqp_depths(url: str, queues: list[str], timeout: float) -> dict[str, int]:
    from kombu import Connection

    depths: dict[str, int] = {}
    with Connection(url, connect_timeout=timeout) as conn:
        for queue in queues:
            # A missing queue closes the channel: one channel per queue.
            channel = conn.channel()
            try:
                _, count, _ = channel.queue_declare(queue=queue, passive=True)
                depths[queue] = int(count)
            except conn.channel_errors:
                depths[queue] = 0
            finally:
                # The broker may have closed it already (missing queue).
                with contextlib.suppress(Exception):
                    channel.close()
    return depths


def _redis_depths(url: str, queues: list[str], timeout: float) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return {queue: int(client.llen(queue)) for queue in queues}
    finally:
        client.close()


def queue_depths_read() -> dict[str, int]:
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_EMBEDDED:
        return {}
    queues = list(settings.METRICS_QUEUES)
    timeout = float(settings.HEALTH_PROBE_TIMEOUT)
    if url.startswith(("redis://", "rediss://")):
        return _redis_depths(url, queues, timeout)
    return _amqp_depths(url, queues, timeout)


class QueueDepthCollector(Collector):
    def __init__(self) -> None:
        self._cached: tuple[float, dict[str, int]] = (0.0, {})

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("ptp_celery_queue_depth", "Messages waiting in a Celery queue", labels=["queue"])

    def _depths(self) -> dict[str, int]:
        fetched_at, depths = self._cached
        if time.monotonic() - fetched_at < CACHE_SECONDS:
            return depths
        try:
            depths = queue_depths_read()
        except Exception:
            depths = {}  # broker down: no sample; the target-down / readiness alerts cover it
        self._cached = (time.monotonic(), depths)
        return depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("ptp_celery_queue_depth", "Messages waiting in a Celery queue", labels=["queue"])
        for queue, depth in sorted(self._depths().items()):
            family.add_metric([queue], depth)
        yield family

    def reset(self) -> None:
        self._cached = (0.0, {})


collector = QueueDepthCollector()
