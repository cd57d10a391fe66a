"""ptp_health_component_up / ptp_health_check_latency_seconds: the /health/ready report as
metrics, computed at scrape time in the web process (cached briefly: probes touch the
database, cache and broker)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CACHE_SECONDS = 10.0


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily("ptp_health_component_up", "1 when a readiness component is healthy", labels=["component"]),
        GaugeMetricFamily("ptp_health_check_latency_seconds", "Latency of a readiness probe", labels=["component"]),
    )


class ReadinessCollector(Collector):
    def __init__(self) -> None:
        self._cached: tuple[float, list[tuple[str, float, float]]] = (0.0, [])

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from _families()

    def _rows(self) -> list[tuple[str, float, float]]:
        fetched_at, rows = self._cached
        if time.monotonic() - fetched_at < CACHE_SECONDS:
            return rows
        from apps.ops.selectors import health_report_get

        report = health_report_get()
        rows = [(r.name, 1.0 if r.healthy else 0.0, r.latency_ms / 1000) for r in report.results]
        self._cached = (time.monotonic(), rows)
        return rows

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up, latency = _families()
        for name, healthy, seconds in self._rows():
            up.add_metric([name], healthy)
            latency.add_metric([name], seconds)
        yield up
        yield latency

    def reset(self) -> None:
        self._cached = (0.0, [])


collector = ReadinessCollector()
