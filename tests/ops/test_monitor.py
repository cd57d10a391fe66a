"""The dependency monitor against real Redis/RabbitMQ (and dead ports for the outages), a
real webhook receiver, and the database path both ways. The restarts themselves are in
tests/resilience/."""

from __future__ import annotations

import importlib.util
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError
from prometheus_client import REGISTRY

from apps.ops.health import ProbeOutcome
from apps.ops.models import AlertNotification, AlertRule
from apps.ops.monitor import dependency_monitor_check, dependency_monitor_create, dependency_probes
from apps.ops.outages import FIRING, RESOLVED
from apps.ops.probes import celery_broker_probe, redis_probe

pytestmark = pytest.mark.django_db
KIND = "dependency_down"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def thresholds(settings):
    settings.ALERT_DEPENDENCY_FAILURES = 2
    settings.ALERT_DEPENDENCY_RECOVERIES = 1
    settings.OPS_ALERT_RULES = []
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def ops_rule(webhook_sink):
    return AlertRule.objects.create(
        name="ops", kind="*", min_severity="warning", email_to="ops@example.com", webhook_url=webhook_sink.url
    )


def _redis_at(settings, url: str) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


class Switch:
    """A probe whose answer the test flips: stands for Postgres where the database path is
    what is under test (this process cannot lose its own test database)."""

    def __init__(self) -> None:
        self.up = True

    def __call__(self) -> ProbeOutcome:
        if not self.up:
            raise OperationalError("connection refused")
        return ProbeOutcome()


def _rows(**filters) -> list[tuple[str, str, str]]:
    rows = AlertNotification.objects.filter(kind=KIND, **filters).order_by("created_at", "id")
    return [(n.channel, n.data["state"], n.status) for n in rows]


def test_probes_follow_the_configuration(settings, dead_port):
    assert list(dependency_probes()) == ["postgres"]  # test settings: locmem cache, embedded Celery
    _redis_at(settings, f"redis://127.0.0.1:{dead_port}/0")
    settings.CELERY_EMBEDDED = False
    assert list(dependency_probes()) == ["postgres", "redis", "broker"]


@pytest.mark.redis
def test_redis_outage_alerts_once_and_resolves(
    settings, thresholds, ops_rule, webhook_sink, redis_url, dead_port, mailoutbox, django_capture_on_commit_callbacks
):
    monitor = dependency_monitor_create(probes={"redis": redis_probe})
    _redis_at(settings, f"redis://127.0.0.1:{dead_port}/0")
    with django_capture_on_commit_callbacks(execute=True):
        assert dependency_monitor_check(monitor=monitor, now=1000.0) == []  # one failure: could be a blip
        [event] = dependency_monitor_check(monitor=monitor, now=1010.0)
        assert (event.dependency, event.state) == ("redis", FIRING)
        assert dependency_monitor_check(monitor=monitor, now=1020.0) == []  # still down: no repeat
    assert webhook_sink.states("redis") == [FIRING]
    firing = webhook_sink.received[0]
    assert firing["severity"] == "critical" and firing["dedup_key"] == "dependency_down:redis"
    assert "Connection" in firing["message"] and firing["data"]["failed_checks"] == 2
    assert mailoutbox[0].subject.startswith("[PTP CRITICAL] redis down")

    _redis_at(settings, redis_url)
    with django_capture_on_commit_callbacks(execute=True):
        [event] = dependency_monitor_check(monitor=monitor, now=1030.0)
    assert event.state == RESOLVED
    assert webhook_sink.states("redis") == [FIRING, RESOLVED]
    assert webhook_sink.received[1]["title"] == "Resolved: redis back after 30s"
    assert webhook_sink.received[1]["data"]["outage_seconds"] == 30.0
    assert _rows() == [
        ("email", FIRING, "sent"),
        ("webhook", FIRING, "sent"),
        ("email", RESOLVED, "sent"),
        ("webhook", RESOLVED, "sent"),
    ]


@pytest.mark.rabbitmq
def test_broker_outage_alerts_and_resolves_without_the_broker(
    settings, thresholds, ops_rule, webhook_sink, amqp_url, dead_port, django_capture_on_commit_callbacks
):
    settings.CELERY_EMBEDDED = False
    settings.HEALTH_PROBE_TIMEOUT = 1
    monitor = dependency_monitor_create(probes={"broker": celery_broker_probe})
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{dead_port}//"
    with django_capture_on_commit_callbacks(execute=True):
        dependency_monitor_check(monitor=monitor, now=1000.0)
        dependency_monitor_check(monitor=monitor, now=1010.0)
    settings.CELERY_BROKER_URL = amqp_url
    with django_capture_on_commit_callbacks(execute=True):
        dependency_monitor_check(monitor=monitor, now=1020.0)
    assert webhook_sink.states("broker") == [FIRING, RESOLVED]
    # Delivered by the monitor itself: sent before any worker could have run a task.
    assert _rows(channel="webhook") == [("webhook", FIRING, "sent"), ("webhook", RESOLVED, "sent")]


def test_a_flapping_dependency_is_deduplicated_by_the_rules(
    thresholds, ops_rule, webhook_sink, django_capture_on_commit_callbacks
):
    def duplicates() -> float:
        return REGISTRY.get_sample_value("ptp_alerts_total", {"kind": KIND, "status": "duplicate"}) or 0.0

    before = duplicates()
    broker = Switch()
    monitor = dependency_monitor_create(probes={"broker": broker})
    with django_capture_on_commit_callbacks(execute=True):
        for now, up in [(0, False), (10, False), (20, True), (30, False), (40, False), (50, True)]:
            broker.up = up
            dependency_monitor_check(monitor=monitor, now=1000.0 + now)
    # Two outages inside the rule's 15-minute window: the second pair is dropped as a
    # duplicate on both channels.
    assert webhook_sink.states("broker") == [FIRING, RESOLVED]
    assert _rows(channel="webhook") == [("webhook", FIRING, "sent"), ("webhook", RESOLVED, "sent")]
    assert duplicates() - before == 4


def test_database_outage_is_sent_without_it_and_recorded_when_it_is_back(
    thresholds, ops_rule, webhook_sink, mailoutbox, django_capture_on_commit_callbacks
):
    postgres = Switch()
    monitor = dependency_monitor_create(probes={"postgres": postgres})
    dependency_monitor_check(monitor=monitor, now=1000.0)  # database up: the rules are read
    ops_rule.webhook_url = "http://127.0.0.1:9/changed-while-down"  # not seen until re-read
    ops_rule.save()

    postgres.up = False
    dependency_monitor_check(monitor=monitor, now=1010.0)
    [event] = dependency_monitor_check(monitor=monitor, now=1020.0)
    assert event.state == FIRING
    # Sent at once through the rules read before the outage; nothing could be stored.
    assert webhook_sink.states("postgres") == [FIRING]
    assert webhook_sink.received[0]["id"] is None
    assert len(mailoutbox) == 1
    assert _rows() == []
    assert len(monitor.unrecorded) == 2

    postgres.up = True
    with django_capture_on_commit_callbacks(execute=True):
        [event] = dependency_monitor_check(monitor=monitor, now=1030.0)
    assert event.state == RESOLVED
    assert monitor.unrecorded == []
    assert _rows() == [
        ("email", FIRING, "sent"),
        ("webhook", FIRING, "sent"),
        ("email", RESOLVED, "sent"),
        ("webhook", RESOLVED, "failed"),  # database back: the rule as it is now (the dead URL)
    ]
    firing = AlertNotification.objects.filter(kind=KIND, data__state=FIRING).first()
    resolved = AlertNotification.objects.filter(kind=KIND, data__state=RESOLVED).first()
    assert firing.rule == ops_rule and firing.sent_at is not None
    assert firing.created_at <= firing.sent_at <= resolved.created_at  # dated when it went out


def test_database_down_from_the_start_uses_the_settings_rules(
    thresholds, webhook_sink, django_capture_on_commit_callbacks
):
    thresholds.OPS_ALERT_RULES = [
        {"name": "default", "kind": "*", "min_severity": "warning", "webhook_url": webhook_sink.url}
    ]
    postgres = Switch()
    postgres.up = False
    monitor = dependency_monitor_create(probes={"postgres": postgres})
    dependency_monitor_check(monitor=monitor, now=1000.0)
    dependency_monitor_check(monitor=monitor, now=1010.0)
    assert webhook_sink.states("postgres") == [FIRING]
    assert not AlertRule.objects.exists()

    postgres.up = True
    with django_capture_on_commit_callbacks(execute=True):
        dependency_monitor_check(monitor=monitor, now=1020.0)
    assert webhook_sink.states("postgres") == [FIRING, RESOLVED]
    assert _rows() == [("webhook", FIRING, "sent"), ("webhook", RESOLVED, "sent")]
    assert AlertNotification.objects.filter(rule__name="default").count() == 2


def test_command_runs_one_round_and_touches_its_heartbeat(tmp_path, capsys):
    heartbeat = tmp_path / "alive"
    call_command("monitor_dependencies", "--once", "--heartbeat-file", str(heartbeat))
    assert "monitoring postgres" in capsys.readouterr().out
    assert heartbeat.exists()


def test_recorded_rows_keep_their_send_time(thresholds, webhook_sink, django_capture_on_commit_callbacks):
    thresholds.OPS_ALERT_RULES = [
        {"name": "default", "kind": "*", "min_severity": "warning", "webhook_url": webhook_sink.url}
    ]
    postgres = Switch()
    postgres.up = False
    monitor = dependency_monitor_create(probes={"postgres": postgres})
    dependency_monitor_check(monitor=monitor, now=1000.0)
    dependency_monitor_check(monitor=monitor, now=1010.0)
    [sent] = monitor.unrecorded
    sent.created_at -= timedelta(minutes=5)  # as if the database had been down five minutes
    postgres.up = True
    dependency_monitor_check(monitor=monitor, now=1020.0)
    row = AlertNotification.objects.get(kind=KIND, data__state=FIRING)
    assert row.created_at == sent.created_at


def test_container_health_check_follows_the_heartbeat(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ptp_healthcheck", ROOT / "docker" / "healthcheck.py")
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    heartbeat = tmp_path / "alive"
    monkeypatch.setattr(healthcheck, "MONITOR_HEARTBEAT", str(heartbeat))
    monkeypatch.setenv("PROCESS_ROLE", "monitor")
    monkeypatch.setenv("ALERT_DEPENDENCY_CHECK_SECONDS", "10")
    assert healthcheck.main() == 1  # no round yet
    heartbeat.touch()
    assert healthcheck.main() == 0
    stale = time.time() - 61
    os.utime(heartbeat, (stale, stale))
    assert healthcheck.main() == 1  # the loop is stuck
