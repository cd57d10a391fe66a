"""Django system checks: start-up is refused unless the environment is paper-only.

Every manage.py command that runs system checks (runserver/daphne's runserver, migrate,
the feeds command, `make run`) is covered; Celery worker and beat run the same
validation from their init signals (``safety_startup_enforce``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import checks

from apps.safety.environment import safety_ok, safety_score

logger = logging.getLogger("apps.safety.checks")


def _environment_messages() -> list[checks.CheckMessage]:
    from apps.safety.selectors import safety_checks_get

    results = safety_checks_get()
    messages: list[checks.CheckMessage] = []
    for result in results:
        if result.passed or not result.applicable:
            continue
        level = checks.Error if result.critical else checks.Warning
        messages.append(
            level(result.message, hint=f"safety check {result.name} (weight {result.weight})", id=result.id)
        )
    score = safety_score(results) * 100
    minimum = settings.SAFETY_MIN_SCORE_PERCENT
    if score < minimum:
        messages.append(
            checks.Error(
                f"UnsafeEnvironmentError: safety score must be >= {minimum}%, got {score:.2f}%",
                hint="run `python manage.py safety_report` for every check",
                id="safety.E100",
            )
        )
    return messages


def safety_environment_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _environment_messages()


def safety_api_keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Configured exchange keys must be read-only; unverifiable keys are a warning."""
    from apps.safety.keys import STATUS_UNSAFE, STATUS_UNVERIFIED, api_keys_check_configured

    configured = any(
        getattr(settings, name, "")
        for name in ("BINANCE_API_KEY", "BINANCE_API_SECRET", "KUCOIN_API_KEY", "KUCOIN_API_SECRET")
    )
    if not configured or not settings.SAFETY_VERIFY_KEYS_AT_START:
        return []
    messages: list[checks.CheckMessage] = []
    for result in api_keys_check_configured():
        if result.status == STATUS_UNSAFE:
            messages.append(checks.Error(f"UnsafeEnvironmentError: {result.message}", id="safety.E200"))
        elif result.status == STATUS_UNVERIFIED:
            messages.append(checks.Warning(result.message, hint="trading stays paper-only", id="safety.W201"))
    return messages


def safety_checks_register() -> None:
    checks.register(safety_environment_check, "safety")
    checks.register(safety_api_keys_check, "safety")


def safety_startup_enforce(*, process: str) -> None:
    """For processes that do not run Django's system checks (celery worker/beat, a bare
    daphne): log every failure and exit non-zero when the environment is not safe."""
    from apps.safety.selectors import safety_checks_get

    results = safety_checks_get()
    errors = [m for m in _environment_messages() if m.is_serious()]
    errors += [m for m in safety_api_keys_check() if m.is_serious()]
    if not errors and safety_ok(results):
        logger.info("safety: %s start-up allowed (score %.2f%%)", process, safety_score(results) * 100)
        return
    for message in errors:
        logger.critical("safety: %s refused to start: %s: %s", process, message.id, message.msg)
    raise SystemExit(f"{process}: start-up refused by the safety validator ({len(errors)} error(s))")


def _celery_worker_init(**kwargs: Any) -> None:
    safety_startup_enforce(process="celery worker")


def _celery_beat_init(**kwargs: Any) -> None:
    safety_startup_enforce(process="celery beat")


def celery_hooks_connect() -> None:
    from celery.signals import beat_init, worker_init

    worker_init.connect(_celery_worker_init, weak=False, dispatch_uid="safety-worker-init")
    beat_init.connect(_celery_beat_init, weak=False, dispatch_uid="safety-beat-init")
