"""Health, metrics and alerting."""

from __future__ import annotations

from config.env import env_bool, env_int, env_secret, env_url

MONITORING_ENABLED = env_bool("MONITORING_ENABLED", False)
FEED_STALE_SECONDS = env_int("FEED_STALE_SECONDS", 30, minimum=1)
ALERT_WEBHOOK_URL = env_url("ALERT_WEBHOOK_URL", "", schemes=("http", "https"))
ALERT_WEBHOOK_SECRET = env_secret("ALERT_WEBHOOK_SECRET", "")
ALERT_EMAIL_TO = env_secret("ALERT_EMAIL_TO", "")
