from __future__ import annotations

import urllib.request

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from prometheus_client import REGISTRY

from apps.ops import queue_depth
from apps.ops.exporter import metrics_exporter_start
from apps.ops.metrics import WebSocketClientsMetricMixin
from apps.ops.tasks import echo_task


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_metrics_endpoint_after_real_traffic(client):
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    echo_task.delay("x")
    body = client.get("/metrics").content.decode()
    assert (
        'django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",view="health-live"}'
        in body
    )
    assert 'ptp_celery_tasks_total{state="SUCCESS",task="apps.ops.tasks.echo_task"}' in body
    assert "ptp_celery_task_duration_seconds_bucket" in body
    assert "# TYPE ptp_celery_queue_depth gauge" in body
    assert 'ptp_health_component_up{component="database"} 1.0' in body


def test_celery_signals_count_success_and_failure(settings):
    from celery import shared_task

    @shared_task(name="tests.ops.boom_task")
    def boom_task() -> None:
        raise RuntimeError("boom")

    before_ok = _sample("ptp_celery_tasks_total", {"task": "apps.ops.tasks.echo_task", "state": "SUCCESS"})
    before_fail = _sample(
        "ptp_celery_task_failures_total", {"task": "tests.ops.boom_task", "exception": "RuntimeError"}
    )
    assert echo_task.delay("y").get() == "y"
    boom_task.apply(throw=False)  # not the setting: the app's conf may be read already
    assert _sample("ptp_celery_tasks_total", {"task": "apps.ops.tasks.echo_task", "state": "SUCCESS"}) == before_ok + 1
    assert (
        _sample("ptp_celery_task_failures_total", {"task": "tests.ops.boom_task", "exception": "RuntimeError"})
        == before_fail + 1
    )
    assert _sample("ptp_celery_tasks_total", {"task": "tests.ops.boom_task", "state": "FAILURE"}) >= 1
    assert _sample("ptp_celery_task_duration_seconds_count", {"task": "apps.ops.tasks.echo_task"}) >= 1


def test_queue_depth_reads_rabbitmq(amqp_url):
    from kombu import Connection, Exchange, Queue

    name = "ptp-ops-test-depth"
    queue = Queue(name, Exchange(name), routing_key=name, auto_delete=False)
    with Connection(amqp_url) as conn:
        bound = queue(conn.channel())
        bound.declare()
        bound.purge()
        producer = conn.Producer()
        for i in range(3):
            producer.publish({"i": i}, exchange=queue.exchange, routing_key=name, declare=[queue])
        try:
            with override_settings(
                CELERY_EMBEDDED=False, CELERY_BROKER_URL=amqp_url, METRICS_QUEUES=[name, "absent-q"]
            ):
                queue_depth.collector.reset()
                assert _sample("ptp_celery_queue_depth", {"queue": name}) == 3
                assert _sample("ptp_celery_queue_depth", {"queue": "absent-q"}) == 0
        finally:
            bound.delete()
            queue_depth.collector.reset()


def test_queue_depth_reads_redis(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("ptp-ops-q")
    client.rpush("ptp-ops-q", "a", "b")
    try:
        with override_settings(CELERY_EMBEDDED=False, CELERY_BROKER_URL=redis_url, METRICS_QUEUES=["ptp-ops-q"]):
            queue_depth.collector.reset()
            assert _sample("ptp_celery_queue_depth", {"queue": "ptp-ops-q"}) == 2
    finally:
        client.delete("ptp-ops-q")
        client.close()
        queue_depth.collector.reset()


class _EchoConsumer(WebSocketClientsMetricMixin, AsyncWebsocketConsumer):
    metrics_route = "ops-test"

    async def connect(self) -> None:
        await self.accept()


# Scraping the registry runs the readiness collector, which probes the database.
@pytest.mark.django_db(transaction=True)
async def test_websocket_clients_gauge():
    labels = {"route": "ops-test"}
    before = _sample("ptp_websocket_clients", labels)
    communicator = WebsocketCommunicator(_EchoConsumer.as_asgi(), "/ws/test/")
    connected, _ = await communicator.connect()
    assert connected
    assert _sample("ptp_websocket_clients", labels) == before + 1
    await communicator.disconnect()
    assert _sample("ptp_websocket_clients", labels) == before


def test_per_process_exporter_serves_registry():
    port = metrics_exporter_start(port=0) or metrics_exporter_start(port=_free_port(), addr="127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    assert "ptp_celery_tasks_total" in body


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
