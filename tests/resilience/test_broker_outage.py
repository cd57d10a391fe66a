"""The Celery broker (RabbitMQ) unreachable and back: the monitor process raises the
dependency alert during the outage and resolves it after, delivering both itself (the
broker is what is down, so no task could carry them).

The shared RabbitMQ is not restarted (other suites use it at the same time): the monitor
reaches it through a TCP proxy that the test cuts and restores, which is what a broker
restart looks like to a client: connections reset, then refused, then accepted again."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from .conftest import TcpProxy, app_env, spawn_monitor, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rabbitmq, pytest.mark.slow]


@pytest.fixture
def broker_proxy(amqp_url):
    parsed = urlparse(amqp_url)
    proxy = TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 5672))
    proxy.restore()
    yield proxy
    proxy.cut()


def test_broker_outage_alerts_and_resolves_without_the_broker(
    amqp_url, broker_proxy, alert_outbox, webhook_sink, tmp_path
):
    parsed = urlparse(amqp_url)
    via_proxy = parsed._replace(netloc=f"{parsed.username}:{parsed.password}@127.0.0.1:{broker_proxy.port}").geturl()
    log = tmp_path / "monitor.log"
    monitor = spawn_monitor(app_env(CELERY_BROKER_URL=via_proxy), webhook_url=webhook_sink.url, log=log)
    try:
        assert wait_for(lambda: "monitoring postgres, broker" in log.read_text(), 30), log.read_text()
        broker_proxy.cut()
        assert wait_for(lambda: webhook_sink.states("broker") == ["firing"], 30), log.read_text()[-3000:]
        broker_proxy.restore()
        assert wait_for(lambda: webhook_sink.states("broker") == ["firing", "resolved"], 30), log.read_text()[-3000:]
    finally:
        monitor.terminate()
        monitor.wait(15)
    # Nothing else went down; one alert and one resolution per rule and channel.
    assert [body["data"]["dependency"] for body in webhook_sink.received] == ["broker", "broker"]
    rows = [(n.rule.name, n.channel, n.data["state"], n.status) for n in alert_outbox("dependency_down")]
    assert sorted(rows) == [
        ("default", "webhook", "firing", "sent"),
        ("default", "webhook", "resolved", "sent"),
        ("resilience", "email", "firing", "sent"),
        ("resilience", "email", "resolved", "sent"),
    ]
