"""Settings load in each mode, in a fresh interpreter (settings are read once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
    "'cache': s.CACHES['default']['BACKEND'], 'eager': getattr(s, 'CELERY_TASK_ALWAYS_EAGER', False), "
    "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'hsts': getattr(s, 'SECURE_HSTS_SECONDS', 0), "
    "'beat': sorted(s.CELERY_BEAT_SCHEDULE), 'alert_rules': [r['name'] for r in s.OPS_ALERT_RULES]}))"
)
PROD_ENV = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "DJANGO_SECRET_KEY": "x" * 64,
    "DJANGO_ALLOWED_HOSTS": "paper.example.com",
}
MODE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "PROCESS_ROLE",
    "ALERT_PAGE_MIN_SEVERITY",  # the test settings turn it off
)


def run_settings(module: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env.update(DJANGO_SETTINGS_MODULE=module, **extra_env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_embedded_settings_need_no_service():
    result = run_settings("config.settings.local")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["db"].endswith("sqlite3")
    assert values["layer"] == "apps.core.channel_layers.FanoutInMemoryChannelLayer"
    assert values["cache"].endswith("LocMemCache")
    assert values["eager"] is True
    assert values["broker"] == "memory://"
    assert "ops-heartbeat" in values["beat"]
    assert values["alert_rules"] == ["status-page"]  # alerts are listed on the status page


def test_production_settings_use_the_services():
    result = run_settings("config.settings.production", **PROD_ENV)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["db"].endswith("postgresql")
    assert values["layer"] == "channels_redis.core.RedisChannelLayer"
    assert "redis" in values["cache"].lower()
    assert values["eager"] is False
    assert values["broker"].startswith("amqp://")
    assert values["debug"] is False
    assert values["hsts"] >= 31536000


def test_production_refuses_missing_database_url():
    env = dict(PROD_ENV)
    env.pop("DATABASE_URL")
    result = run_settings("config.settings.production", **env)
    assert result.returncode != 0
    assert "DATABASE_URL: required in production" in result.stderr


def test_production_refuses_default_secret_key():
    env = dict(PROD_ENV)
    env.pop("DJANGO_SECRET_KEY")
    result = run_settings("config.settings.production", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_bad_typed_env_value_fails_at_start_naming_the_variable():
    result = run_settings("config.settings.local", DJANGO_DEBUG="perhaps")
    assert result.returncode != 0
    assert "DJANGO_DEBUG: expected a boolean" in result.stderr


def test_bad_url_fails_at_start_naming_the_variable():
    result = run_settings("config.settings.local", REDIS_URL="localhost:6379")
    assert result.returncode != 0
    assert "REDIS_URL: expected redis://" in result.stderr
