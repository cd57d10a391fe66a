from __future__ import annotations

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apps.safety.checks import safety_environment_check, safety_startup_enforce


def test_safe_test_environment_has_no_safety_messages():
    assert safety_environment_check() == []
    safety_startup_enforce(process="test")


def test_unsafe_switch_is_a_system_check_error(settings):
    settings.TRADING_SIMULATION_ONLY = "false"
    settings.ALLOW_REAL_TRADES = "yes"
    messages = safety_environment_check()
    ids = {m.id for m in messages}
    assert {"safety.E001", "safety.E003", "safety.E100"} <= ids
    assert all(m.level == checks.ERROR for m in messages)
    with pytest.raises(SystemCheckError, match="TRADING_SIMULATION_ONLY must be true"):
        call_command("check")
    with pytest.raises(SystemExit, match="celery worker"):
        safety_startup_enforce(process="celery worker")


def test_production_role_checks_production_settings(settings):
    settings.PROCESS_ROLE = "worker"
    settings.DEBUG = True
    messages = {m.id: m for m in safety_environment_check()}
    assert "safety.E007" in messages and "safety.E008" in messages
    assert "DJANGO_DEBUG must be false, got true" in messages["safety.E007"].msg


@pytest.mark.filterwarnings("ignore::celery.exceptions.FixupWarning")
def test_celery_signals_run_the_validator(settings):
    from celery.signals import beat_init, worker_init

    settings.PAPER_TRADING_MODE = "false"
    with pytest.raises(SystemExit):
        worker_init.send(sender=None)
    with pytest.raises(SystemExit):
        beat_init.send(sender=None)
