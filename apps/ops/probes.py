"""The readiness probes and the default component set.

Every probe reads its target from settings when it runs (never at import), uses bounded
timeouts and returns a ``ProbeOutcome``; raising means "down".
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections

from apps.market.cache import feed_status_get
from apps.ops.evaluate import feed_health_evaluate, safety_health_evaluate
from apps.ops.health import EMBEDDED, SKIPPED, HealthRegistry, ProbeOutcome
from apps.ops.services import HEARTBEAT_KEY
from apps.safety.selectors import safety_status_get


def database_probe(alias: str = "default") -> ProbeOutcome:
    connection = connections[alias]
    pool = getattr(connection, "pool", None)
    if pool is not None and connection.connection is None:
        # Borrow with the probe's timeout, not the pool's (DATABASE_POOL_TIMEOUT): during an
        # outage the pool would wait that long for a connection and answer late, often "ok".
        pool.open()
        with pool.connection(timeout=settings.HEALTH_PROBE_TIMEOUT) as raw:
            raw.execute("SELECT 1").fetchone()
        return ProbeOutcome(data={"vendor": connection.vendor})
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A broken connection would stay broken for this thread; drop it so the next
        # probe reconnects (not inside a transaction: that belongs to the caller).
        if not connection.in_atomic_block:
            connection.close()
        raise
    return ProbeOutcome(data={"vendor": connection.vendor})


def database_connect_probe(alias: str = "default") -> ProbeOutcome:
    """A new connection to the server, outside this process's pool, closed at once.

    The dependency monitor uses this one: a connection it keeps would stay healthy while
    the server refuses every new one ("too many clients"), which is what the other
    processes then see."""
    connection = connections[alias]
    params = connection.get_connection_params()
    params["connect_timeout"] = max(1, round(settings.HEALTH_PROBE_TIMEOUT))
    params["application_name"] = f"{params.get('application_name') or 'paperdesk'}-probe"
    driver: Any = connection.Database  # type: ignore[attr-defined]  # set by every backend
    with driver.connect(**params) as raw:
        raw.execute("SELECT 1").fetchone()
    return ProbeOutcome(data={"vendor": connection.vendor})


def cache_probe(alias: str = "default") -> ProbeOutcome:
    cache = caches[alias]
    key = f"ops:health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise RuntimeError("cache did not return the value just written")
    backend = settings.CACHES[alias]["BACKEND"]
    return ProbeOutcome(status=EMBEDDED if "locmem" in backend.lower() else "ok")


def _redis_ping(url: str) -> None:
    import redis

    timeout = settings.HEALTH_PROBE_TIMEOUT
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def channel_layer_probe(alias: str = "default") -> ProbeOutcome:
    config: dict[str, Any] = settings.CHANNEL_LAYERS[alias]
    if "InMemory" in config["BACKEND"]:
        return ProbeOutcome(status=EMBEDDED)
    for host in config.get("CONFIG", {}).get("hosts", []):
        _redis_ping(host if isinstance(host, str) else host["address"])
    return ProbeOutcome()


def redis_urls() -> list[str]:
    """Every Redis server the caches and the channel layer use, each once, in order."""
    urls: list[str] = []
    caches: dict[str, dict[str, Any]] = settings.CACHES
    layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
    for cache in caches.values():
        if "redis" in cache["BACKEND"].lower():
            location = cache.get("LOCATION", "")
            urls += re.split("[;,]", location) if isinstance(location, str) else list(location)
    for layer in layers.values():
        if "InMemory" not in layer["BACKEND"]:
            hosts = layer.get("CONFIG", {}).get("hosts", [])
            urls += [host if isinstance(host, str) else host["address"] for host in hosts]
    return list(dict.fromkeys(url.strip() for url in urls if url.strip()))


def redis_probe() -> ProbeOutcome:
    """PING every Redis this process uses, with the probe timeout (no cache round trip: the
    cache client has no timeout and would hang on an unreachable host)."""
    urls = redis_urls()
    if not urls:
        return ProbeOutcome(status=SKIPPED, detail="no Redis configured")
    for url in urls:
        _redis_ping(url)
    return ProbeOutcome(data={"servers": len(urls)})


def celery_broker_probe() -> ProbeOutcome:
    if settings.CELERY_EMBEDDED:
        return ProbeOutcome(status=EMBEDDED, detail="tasks run in-process")
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=settings.HEALTH_PROBE_TIMEOUT) as conn:
        conn.connect()
        transport = conn.transport_cls
    return ProbeOutcome(data={"transport": str(transport)})


def heartbeat_age(source: str) -> float | None:
    value = caches["default"].get(HEARTBEAT_KEY.format(source=source))
    return None if value is None else max(0.0, time.time() - float(value))


def celery_workers_probe() -> ProbeOutcome:
    """A worker ran the beat-scheduled heartbeat recently (shared cache, so any process sees it)."""
    if settings.CELERY_EMBEDDED:
        return ProbeOutcome(status=EMBEDDED, detail="tasks run in-process")
    age = heartbeat_age("celery")
    max_age = settings.HEALTH_WORKER_HEARTBEAT_MAX_AGE
    if age is None:
        return ProbeOutcome(status="down", detail="no worker heartbeat yet")
    data = {"heartbeat_age_seconds": round(age, 3)}
    if age > max_age:
        return ProbeOutcome(status="down", detail=f"last worker heartbeat {age:.0f}s ago (> {max_age}s)", data=data)
    return ProbeOutcome(data=data)


def feed_probe_factory(
    exchange: str, *, status_source: Callable[[str], Any] | None = None
) -> Callable[[], ProbeOutcome]:
    def probe() -> ProbeOutcome:
        status = (status_source or feed_status_get)(exchange)
        return feed_health_evaluate(status, now=time.time(), stale_after=settings.MARKET_FEED_STALE_S)

    return probe


def safety_probe() -> ProbeOutcome:
    return safety_health_evaluate(safety_status_get(), min_score=settings.SAFETY_SCORE_MIN)


def default_components_register(registry: HealthRegistry) -> None:
    registry.register("database", database_probe)
    registry.register("cache", cache_probe)
    registry.register("channel_layer", channel_layer_probe)
    registry.register("celery_broker", celery_broker_probe)
    registry.register("celery_workers", celery_workers_probe)
    if settings.HEALTH_CHECK_FEEDS:
        for exchange in settings.HEALTH_FEED_EXCHANGES:
            registry.register(f"feed:{exchange}", feed_probe_factory(exchange))
    registry.register("safety", safety_probe)
