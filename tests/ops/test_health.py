from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import override_settings

from apps.ops.health import registry
from apps.ops.probes import feed_probe_factory
from apps.ops.services import heartbeat_record

pytestmark = pytest.mark.django_db


def _ready(client) -> tuple[int, dict]:
    response = client.get("/health/ready")
    return response.status_code, response.json()


def _with_port(url: str, port: int) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=f"{parsed.hostname}:{port}").geturl()


def test_live_is_ok(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_every_component_with_latency(client):
    status, body = _ready(client)
    assert status == 200, body
    assert body["status"] == "ok"
    for name in ("database", "cache", "channel_layer", "celery_broker", "celery_workers", "safety"):
        component = body["components"][name]
        assert component["status"] in ("ok", "embedded", "skipped")
        assert isinstance(component["latency_ms"], float)
    assert body["components"]["celery_broker"]["status"] == "embedded"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ready_fails_while_database_down(client, dead_port):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(dead_port)
    try:
        status, body = _ready(client)
        assert status == 503
        assert body["components"]["database"]["status"] == "down"
        assert body["components"]["database"]["detail"]
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    status, body = _ready(client)
    assert status == 200, body
    assert body["components"]["database"]["status"] == "ok"


def _redis_cache(url: str) -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def test_ready_follows_redis_cache(client, redis_url, dead_port):
    with override_settings(CACHES=_redis_cache(redis_url)):
        status, body = _ready(client)
        assert status == 200, body
        assert body["components"]["cache"]["status"] == "ok"
    with override_settings(CACHES=_redis_cache(_with_port(redis_url, dead_port))):
        status, body = _ready(client)
        assert status == 503
        assert body["components"]["cache"]["status"] == "down"
    with override_settings(CACHES=_redis_cache(redis_url)):
        assert _ready(client)[0] == 200


def _redis_layer(url: str) -> dict:
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}}


def test_ready_follows_channel_layer(client, redis_url, dead_port):
    with override_settings(CHANNEL_LAYERS=_redis_layer(redis_url)):
        status, body = _ready(client)
        assert status == 200, body
        assert body["components"]["channel_layer"]["status"] == "ok"
    with override_settings(CHANNEL_LAYERS=_redis_layer(_with_port(redis_url, dead_port))):
        status, body = _ready(client)
        assert status == 503
        assert body["components"]["channel_layer"]["status"] == "down"
    with override_settings(CHANNEL_LAYERS=_redis_layer(redis_url)):
        assert _ready(client)[0] == 200


def test_ready_follows_broker(client, amqp_url, dead_port):
    heartbeat_record(source="celery")
    with override_settings(CELERY_EMBEDDED=False, CELERY_BROKER_URL=amqp_url):
        status, body = _ready(client)
        assert status == 200, body
        assert body["components"]["celery_broker"]["status"] == "ok"
    with override_settings(CELERY_EMBEDDED=False, CELERY_BROKER_URL=_with_port(amqp_url, dead_port)):
        status, body = _ready(client)
        assert status == 503
        assert body["components"]["celery_broker"]["status"] == "down"
    with override_settings(CELERY_EMBEDDED=False, CELERY_BROKER_URL=amqp_url):
        assert _ready(client)[0] == 200


def test_ready_follows_worker_heartbeat(client, amqp_url):
    from django.core.cache import cache

    from apps.ops.services import HEARTBEAT_KEY

    cache.delete(HEARTBEAT_KEY.format(source="celery"))
    with override_settings(CELERY_EMBEDDED=False, CELERY_BROKER_URL=amqp_url, HEALTH_WORKER_HEARTBEAT_MAX_AGE=60):
        status, body = _ready(client)
        assert status == 503
        assert body["components"]["celery_workers"]["status"] == "down"
        cache.set(HEARTBEAT_KEY.format(source="celery"), f"{time.time() - 300:.3f}", timeout=None)
        assert _ready(client)[0] == 503
        heartbeat_record(source="celery")
        status, body = _ready(client)
        assert status == 200, body
        assert body["components"]["celery_workers"]["heartbeat_age_seconds"] < 60


@pytest.fixture
def binance_feed_component():
    """The real feed status published by the feed hub (apps.market.cache), read by the probe."""
    from django.core.cache import cache

    registry.register("feed:binance", feed_probe_factory("binance"))
    yield
    registry.unregister("feed:binance")
    cache.delete("mkt:status:binance")


@override_settings(MARKET_FEED_STALE_S=30)
def test_ready_fails_when_feed_stale_or_down(client, binance_feed_component):
    from apps.market.cache import feed_status_set

    now_ms = time.time() * 1000
    feed_status_set("binance", state="live", last_message_ts=now_ms - 500, lag_ms=500)
    status, body = _ready(client)
    assert status == 200, body
    assert body["components"]["feed:binance"]["status"] == "ok"
    assert body["components"]["feed:binance"]["state"] == "live"

    feed_status_set("binance", state="live", last_message_ts=now_ms - 45_000)
    status, body = _ready(client)
    assert status == 503
    assert body["components"]["feed:binance"]["status"] == "stale"

    feed_status_set("binance", state="reconnecting", last_message_ts=now_ms)
    status, body = _ready(client)
    assert status == 503
    assert body["components"]["feed:binance"]["status"] == "down"

    feed_status_set("binance", state="simulated", last_message_ts=time.time() * 1000)
    assert _ready(client)[0] == 200


def test_feed_readiness_and_the_feeds_share_one_staleness_setting(settings):
    """MARKET_FEED_STALE_S is the one feed-staleness setting (issue 16, item 8): a feed silent
    that long reconnects, and readiness calls it stale."""
    assert not hasattr(settings, "FEED_STALE_SECONDS")
    settings.MARKET_FEED_STALE_S = 2
    status = {"state": "live", "last_message_ts": time.time() * 1000 - 3000}
    assert feed_probe_factory("binance", status_source=lambda exchange: status)().status == "stale"
    status["last_message_ts"] = time.time() * 1000 - 500
    assert feed_probe_factory("binance", status_source=lambda exchange: status)().status == "ok"


def test_feed_probe_with_custom_source():
    status = {"connected": False, "last_message_at": time.time()}
    assert feed_probe_factory("kucoin", status_source=lambda exchange: status)().status == "down"
    status["connected"] = True
    assert feed_probe_factory("kucoin", status_source=lambda exchange: status)().status == "ok"
