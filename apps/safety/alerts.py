"""Safety alerts: a small hook others subscribe to (the ops alerting does).

Raising an alert logs at CRITICAL, keeps the latest alert in the cache for the status
page, and calls every subscriber. A failing subscriber or cache never hides the alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("apps.safety.alerts")

LATEST_ALERT_CACHE_KEY = "safety:alert:latest"
LATEST_ALERT_TTL_SECONDS = 7 * 24 * 3600

AlertSubscriber = Callable[[dict[str, Any]], None]
_subscribers: dict[str, AlertSubscriber] = {}


def safety_alert_subscribe(name: str, callback: AlertSubscriber) -> None:
    """Register ``callback(alert)``; registering the same name again replaces it."""
    _subscribers[name] = callback


def safety_alert_unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def safety_alert_raise(*, layer: str, message: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    alert = {
        "layer": layer,
        "message": message,
        "detail": detail or {},
        "raised_at": datetime.now(tz=UTC).isoformat(),
    }
    logger.critical("SAFETY ALERT [%s] %s", layer, message)
    try:
        from django.core.cache import cache

        cache.set(LATEST_ALERT_CACHE_KEY, alert, LATEST_ALERT_TTL_SECONDS)
    except Exception:  # the alert is already logged; a cache outage must not mask it
        logger.exception("safety alert: cache unavailable")
    for name, callback in list(_subscribers.items()):
        try:
            callback(alert)
        except Exception:  # one broken subscriber must not silence the others
            logger.exception("safety alert subscriber %s failed", name)
    return alert


def safety_alert_latest() -> dict[str, Any] | None:
    from django.core.cache import cache

    return cache.get(LATEST_ALERT_CACHE_KEY)
