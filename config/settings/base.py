"""Core settings. Everything is here; production toggles come from the environment.

Embedded mode (no DATABASE_URL / REDIS_URL / CELERY_BROKER_URL): SQLite, in-memory channel
layer and cache, Celery in-process. Production mode: the three URLs point at Postgres,
Redis and RabbitMQ (or Redis). The concern modules at the bottom add their own settings.
"""

from __future__ import annotations

from config.database import database_pool_options
from config.env import (
    BASE_DIR,
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_url,
)

# GENERAL
DEBUG = env_bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "embedded-insecure-secret-key-change-me-0123456789abcdefghijklmnop"  # noqa: S105 - embedded default; production refuses it  # nosec B105
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", _DEV_SECRET)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Which process this is (web, worker, beat, feeds, monitor, embedded); used by metrics and checks.
PROCESS_ROLE = env_choice("PROCESS_ROLE", "embedded", ("embedded", "web", "worker", "beat", "feeds", "monitor", "test"))

# APPS
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "apps.core",
    "apps.safety",
    "apps.market",
    "apps.portfolio",
    "apps.bots",
    "apps.ops",
    "apps.web",
]

MIDDLEWARE = [
    # Outermost: under /api/ every answer is JSON, whatever failed (apps/core/error_middleware.py).
    "apps.core.error_middleware.ErrorShapeMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.logging.RequestIdMiddleware",
    "apps.safety.middleware.PaperTradingGuardMiddleware",
    # After the guard (a real-execution marker in a query is a 403 + audit first).
    "apps.core.api_query.StrictQueryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.security.SecurityHeadersMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.product",
            ],
        },
    },
]

# DATABASES: SQLite embedded, Postgres in production.
DATABASE_URL = env_url("DATABASE_URL", "", schemes=("postgres", "postgresql", "pgsql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    # Every process borrows from a bounded psycopg pool and gives the connection back at
    # the end of each request/task: daphne runs each request in a thread of its own, so a
    # persistent per-thread connection (CONN_MAX_AGE > 0) leaked one connection per thread
    # until the server ran out (config/database.py). The pool requires CONN_MAX_AGE = 0.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = database_pool_options(PROCESS_ROLE)
else:
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    # SQLite serialises writers, and the embedded server writes from several threads (web
    # requests, feeds, beat). IMMEDIATE transactions take the write lock at BEGIN, so a
    # writer waits up to `timeout` instead of failing with "database is locked" when two
    # read transactions both try to upgrade; WAL lets readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
_test_db_name = env_str("TEST_DATABASE_NAME", "")
if _test_db_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_db_name}

# CACHE + CHANNEL LAYER: Redis in production, in-process in embedded mode.
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            # django_prometheus's redis backends import django_redis (not installed): the stock one.
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "ptp"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNEL_LAYER_PREFIX", "ptp:asgi"), "capacity": 1000},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ptp"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "apps.core.channel_layers.FanoutInMemoryChannelLayer"}}

# AUTH
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders in embedded mode: no collectstatic step for `make run`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# SECURITY (tightened further in production.py)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])

# EMAIL
EMAIL_URL = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_URL else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = EMAIL_URL or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "paper-trading@localhost")

from config.settings.celery import *  # noqa: E402, F403
from config.settings.drf import *  # noqa: E402, F403
from config.settings.logging import *  # noqa: E402, F403
from config.settings.market import *  # noqa: E402, F403
from config.settings.ops import *  # noqa: E402, F403
from config.settings.portfolio import *  # noqa: E402, F403
from config.settings.security import *  # noqa: E402, F403
from config.settings.trading import *  # noqa: E402, F403
