"""Production: external services required, secure transport, no debug."""

from __future__ import annotations

from config.env import EnvError, env_bool, env_int
from config.settings.base import *  # noqa: F403
from config.settings.base import _DEV_SECRET, DATABASE_URL, REDIS_URL, SECRET_KEY

for _name, _value in (("DATABASE_URL", DATABASE_URL), ("REDIS_URL", REDIS_URL)):
    if not _value:
        raise EnvError(f"{_name}: required in production (config.settings.production), got nothing")
if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50:
    raise EnvError("DJANGO_SECRET_KEY: production needs a unique secret of at least 50 characters")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
WHITENOISE_USE_FINDERS = False
# /metrics on the web port answers only with the METRICS_TOKEN bearer token (apps.ops.views).
METRICS_ANONYMOUS = False
