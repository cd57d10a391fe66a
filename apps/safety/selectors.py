"""Reads of the safety state: the environment score and the audit log."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from apps.safety.environment import (
    CheckResult,
    EnvironmentSnapshot,
    environment_checks,
    safety_ok,
    safety_score,
)
from apps.safety.models import AuditEvent

STATUS_CACHE_KEY = "safety:status"
_KEY_NAMES = ("BINANCE_API_KEY", "BINANCE_API_SECRET", "KUCOIN_API_KEY", "KUCOIN_API_SECRET", "KUCOIN_API_PASSPHRASE")


def environment_snapshot_get() -> EnvironmentSnapshot:
    """The current process's switches, security settings and environment."""
    from config.settings.base import _DEV_SECRET

    return EnvironmentSnapshot(
        trading_simulation_only=str(getattr(settings, "TRADING_SIMULATION_ONLY", "")),
        paper_trading_mode=str(getattr(settings, "PAPER_TRADING_MODE", "")),
        allow_real_trades=str(getattr(settings, "ALLOW_REAL_TRADES", "")),
        process_role=getattr(settings, "PROCESS_ROLE", "embedded"),
        debug=bool(settings.DEBUG),
        secret_key=settings.SECRET_KEY,
        default_secret_key=_DEV_SECRET,
        allowed_hosts=tuple(settings.ALLOWED_HOSTS),
        session_cookie_secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        csrf_cookie_secure=bool(getattr(settings, "CSRF_COOKIE_SECURE", False)),
        hsts_seconds=int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0),
        middleware=tuple(settings.MIDDLEWARE),
        exchange_keys={name: str(getattr(settings, name, "") or "") for name in _KEY_NAMES},
        environ=dict(os.environ),
    )


def safety_checks_get() -> list[CheckResult]:
    return environment_checks(environment_snapshot_get())


def safety_status_compute() -> dict[str, Any]:
    """Score (percent), ok, every check, and the last API key verification; updates the gauges."""
    from apps.safety.keys import api_key_status_latest
    from apps.safety.metrics import SAFETY_CHECK_PASSED, SAFETY_SCORE

    results = safety_checks_get()
    score = float(safety_score(results) * 100)
    ok = safety_ok(results)
    SAFETY_SCORE.set(score)
    for result in results:
        SAFETY_CHECK_PASSED.labels(check=result.name).set(1 if result.passed else 0)
    keys = api_key_status_latest()
    return {
        "score": round(score, 2),
        "ok": ok,
        "min_score": float(settings.SAFETY_MIN_SCORE_PERCENT),
        "paper_only": True,
        "checks": [result.as_dict() for result in results],
        "api_keys": keys,
    }


def safety_status_get() -> dict[str, Any]:
    """safety_status_compute(), cached for SAFETY_STATUS_CACHE_SECONDS (the banner is on every page)."""
    status = cache.get(STATUS_CACHE_KEY)
    if status is None:
        status = safety_status_compute()
        cache.set(STATUS_CACHE_KEY, status, settings.SAFETY_STATUS_CACHE_SECONDS)
    return status


def safety_banner_state() -> dict[str, Any]:
    status = safety_status_get()
    return {"score": status["score"], "ok": status["ok"]}


def audit_event_list(*, user: Any, filters: dict[str, Any] | None = None) -> QuerySet[AuditEvent]:
    """The user's own events; staff see all. Filters: category, result, action, symbol, since."""
    queryset = AuditEvent.objects.select_related("actor")
    if not getattr(user, "is_staff", False):
        queryset = queryset.filter(actor=user)
    filters = filters or {}
    for name in ("category", "result", "action", "symbol", "exchange"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("since"):
        queryset = queryset.filter(created_at__gte=filters["since"])
    return queryset
