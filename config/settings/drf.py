"""Django REST framework, simplejwt and drf-spectacular."""

from __future__ import annotations

from datetime import timedelta

from config.env import env_int

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's JWTAuthentication with the user row cached per process (apps/core/auth_jwt.py).
        "apps.core.auth_jwt.CachedUserJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api_schema.ApiAutoSchema",
    # JSON only: form encodings turn every value into a string, so the documented types would
    # not hold; pages post their forms to Django views, not to the API.
    "DEFAULT_PARSER_CLASSES": ["apps.core.api_parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        # Fixed-window counters: one cache round trip per request (apps/core/api_throttling.py).
        "apps.core.api_throttling.AnonRateThrottle",
        "apps.core.api_throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": f"{env_int('API_THROTTLE_ANON_PER_MINUTE', 120, minimum=1)}/min",
        "user": f"{env_int('API_THROTTLE_USER_PER_MINUTE', 1200, minimum=1)}/min",
    },
    "EXCEPTION_HANDLER": "apps.core.api_errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}

# How long a JWT-authenticated request may use this process's copy of the user row (saving
# the user forgets it at once here; other processes see a deactivation this much later).
API_JWT_USER_CACHE_SECONDS = 5.0
# The latest candles per (exchange, symbol, timeframe, limit) are served from memory this long.
API_CANDLES_CACHE_SECONDS = 1.0
# The latest ticker per (exchange, symbol) likewise (the feed hub rewrites it every 200 ms).
API_TICKER_CACHE_SECONDS = 0.1

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Paper Trading Platform API",
    "DESCRIPTION": (
        "Paper trading on live Binance and KuCoin market data. Every order is simulated against "
        "a virtual portfolio; no request can reach a real exchange's trading endpoints."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One component per choice set, whichever serializer or parameter uses it.
    "ENUM_NAME_OVERRIDES": {
        "ExchangeEnum": "apps.market.models.Exchange",
        "TimeframeEnum": "apps.market.models.Timeframe",
        "AlertSeverityEnum": "apps.ops.models.Severity",
        "AlertRuleKindEnum": "apps.ops.models.AlertKind",
        "AlertKindEnum": "apps.ops.serializers.NOTIFICATION_KINDS",
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Request bodies are closed: unknown fields are refused (apps/core/api_serializers.py).
        "apps.core.api_schema.request_bodies_closed",
    ],
}
