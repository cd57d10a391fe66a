"""Thin Celery wrappers over the safety services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="apps.safety.tasks.api_key_check_task")
def api_key_check_task() -> list[dict]:
    """Daily: verify the configured exchange keys are still read-only."""
    from apps.safety.keys import api_keys_check_configured

    return [result.as_dict() for result in api_keys_check_configured()]
