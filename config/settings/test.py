"""Test settings: the same code against the real services.

Postgres, Redis and RabbitMQ are taken from DATABASE_URL / TEST_REDIS_URL / TEST_AMQP_URL
or their loopback defaults. Locally, an unreachable Postgres falls back to SQLite and the
Postgres-only tests skip; with CI=true nothing falls back (see tests/conftest.py).
"""

from __future__ import annotations

import os

from config.env import env_bool, env_str

os.environ.setdefault("PROCESS_ROLE", "test")
# Tests count the alert channels they configure; the status-page channel has its own tests.
os.environ.setdefault("ALERT_PAGE_MIN_SEVERITY", "")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from config.services import service_reachable

CI = env_bool("CI", False)
_pg_url = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
# "sqlite": run on the embedded mode's database (make test runs the order and ledger tests
# a second time this way, so both write paths are proven in every CI run).
TEST_DB_ENGINE = env_str("TEST_DB_ENGINE", "postgres")
USE_POSTGRES = TEST_DB_ENGINE != "sqlite" and (CI or service_reachable(_pg_url))
if USE_POSTGRES:
    os.environ["DATABASE_URL"] = _pg_url
else:
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"
# The default cache and channel layer stay in-process so tests are isolated; tests of the
# Redis paths build their own clients against TEST_REDIS_URL.
os.environ.pop("REDIS_URL", None)
os.environ.pop("CELERY_BROKER_URL", None)

from config.settings.base import *  # noqa: E402, F403

TEST_REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_AMQP_URL = env_str("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING["root"]["level"] = "WARNING"
if TEST_DB_ENGINE == "sqlite":
    # A file, as in the embedded mode (WAL, IMMEDIATE transactions): an in-memory shared-cache
    # database answers "table is locked" at once where the real file waits its busy timeout.
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"ptp-test-{os.getpid()}.sqlite3")}
