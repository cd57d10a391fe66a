"""Health, metrics and alerting (apps.ops). See docs/OPERATIONS.md."""

from __future__ import annotations

from datetime import timedelta

from config.env import BASE_DIR, env_bool, env_choice, env_float, env_int, env_list, env_secret, env_str, env_url

# READINESS (/health/ready)
# A feed is stale after MARKET_FEED_STALE_S without a message (config/settings/market.py).
HEALTH_FEED_EXCHANGES = env_list("HEALTH_FEED_EXCHANGES", ["binance", "kucoin"])
# The test settings have no feeds running; every real process checks them.
HEALTH_CHECK_FEEDS = env_bool("HEALTH_CHECK_FEEDS", env_str("PROCESS_ROLE", "embedded") != "test")
# Beat schedules the heartbeat every 30 s and a worker runs it: older than this means
# no worker (or no beat) is alive.
HEALTH_WORKER_HEARTBEAT_MAX_AGE = env_int("HEALTH_WORKER_HEARTBEAT_MAX_AGE", 120, minimum=10)
HEALTH_PROBE_TIMEOUT = env_int("HEALTH_PROBE_TIMEOUT", 2, minimum=1, maximum=30)
SAFETY_SCORE_MIN = 90

# METRICS: per-process exporters (see docs/OPERATIONS.md "Metrics across processes").
# The worker and feeds processes serve /metrics on METRICS_PORT (0 = no exporter); web is
# scraped at /metrics through django-prometheus.
METRICS_PORT = env_int("METRICS_PORT", 0, minimum=0, maximum=65535)
METRICS_QUEUES = env_list("METRICS_QUEUES", ["celery"])
# /metrics on the web port (apps.ops.views.metrics): with METRICS_TOKEN set, only requests
# with "Authorization: Bearer <token>" get it (Prometheus: credentials_file). Without a
# token it is anonymous where METRICS_ANONYMOUS (embedded and dev) and absent (404) in
# production, which sets METRICS_ANONYMOUS = False.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
METRICS_ANONYMOUS = True

# ALERTING
ALERT_WEBHOOK_URL = env_url("ALERT_WEBHOOK_URL", "", schemes=("http", "https"))
ALERT_WEBHOOK_SECRET = env_secret("ALERT_WEBHOOK_SECRET", "")
ALERT_EMAIL_TO = env_secret("ALERT_EMAIL_TO", "")
ALERT_DEDUP_SECONDS = env_int("ALERT_DEDUP_SECONDS", 900, minimum=0)
ALERT_MAX_PER_HOUR = env_int("ALERT_MAX_PER_HOUR", 20, minimum=1)
ALERT_FEED_DOWN_SECONDS = env_int("ALERT_FEED_DOWN_SECONDS", 120, minimum=1)
ALERT_ERRORS_PER_MINUTE = env_int("ALERT_ERRORS_PER_MINUTE", 20, minimum=1)
ALERT_WEBHOOK_TIMEOUT = env_int("ALERT_WEBHOOK_TIMEOUT", 5, minimum=1, maximum=60)
# The dependency monitor (python manage.py monitor_dependencies, the "monitor" process)
# probes Postgres, Redis and the broker every ALERT_DEPENDENCY_CHECK_SECONDS;
# ALERT_DEPENDENCY_FAILURES failed checks in a row raise a "dependency_down" alert and
# ALERT_DEPENDENCY_RECOVERIES good ones in a row resolve it. A restart shorter than
# FAILURES x CHECK_SECONDS stays silent by design (readiness still shows it).
ALERT_DEPENDENCY_CHECK_SECONDS = env_float("ALERT_DEPENDENCY_CHECK_SECONDS", 10.0, minimum=0.1)
ALERT_DEPENDENCY_FAILURES = env_int("ALERT_DEPENDENCY_FAILURES", 3, minimum=1)
ALERT_DEPENDENCY_RECOVERIES = env_int("ALERT_DEPENDENCY_RECOVERIES", 2, minimum=1)

# Rules defined here are synced into the AlertRule table (source="settings") and editable
# copies can be added in the admin. One default rule routes everything to the configured
# email and webhook when either is set.
OPS_ALERT_RULES: list[dict[str, object]] = []
# The in-app channel: every alert from this severity up is listed on the status page, also
# where no mail or webhook is configured (make run). "" turns it off (the test settings do,
# so tests count only the channels they configure).
ALERT_PAGE_MIN_SEVERITY = env_choice("ALERT_PAGE_MIN_SEVERITY", "warning", ("", "info", "warning", "critical"))
if ALERT_PAGE_MIN_SEVERITY:
    OPS_ALERT_RULES.append({"name": "status-page", "kind": "*", "min_severity": ALERT_PAGE_MIN_SEVERITY, "page": True})
if ALERT_EMAIL_TO or ALERT_WEBHOOK_URL:
    OPS_ALERT_RULES.append(
        {
            "name": "default",
            "kind": "*",
            "min_severity": "warning",
            "email_to": ALERT_EMAIL_TO,
            "webhook_url": ALERT_WEBHOOK_URL,
        }
    )

# RETENTION (apps.ops.retention, daily): days to keep each kind of row; 0 keeps it forever.
# Audit events are written to gzip JSONL files in AUDIT_ARCHIVE_DIR before they are deleted
# (the audit trail is kept, only moved out of the database); old equity snapshots are thinned
# to the last one per portfolio and day.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, minimum=0)
AUDIT_ARCHIVE_DIR = env_str("AUDIT_ARCHIVE_DIR", str(BASE_DIR / "var" / "audit-archive"))
ALERT_RETENTION_DAYS = env_int("ALERT_RETENTION_DAYS", 90, minimum=0)
PAPER_EQUITY_RETENTION_DAYS = env_int("PAPER_EQUITY_RETENTION_DAYS", 90, minimum=0)

from config.settings.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

# The watchdog turns feed outages, bot errors, kill switches and error spikes into alerts.
CELERY_BEAT_SCHEDULE.update(
    {
        "ops-watchdog": {"task": "apps.ops.tasks.watchdog_task", "schedule": timedelta(seconds=30)},
        "ops-retention": {"task": "apps.ops.tasks.retention_task", "schedule": timedelta(days=1)},
    }
)
