"""Structured JSON logs (request id and user id on every record), plain text in embedded mode."""

from __future__ import annotations

from config.env import env_choice, env_str

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOG_FILE = env_str("LOG_FILE", "")

_handlers: dict[str, dict[str, object]] = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": LOG_FORMAT,
        "filters": ["request_context"],
    }
}
if LOG_FILE:
    # Rotation: 50 MB per file, 10 files kept (see docs/OPERATIONS.md for retention).
    _handlers["file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": LOG_FILE,
        "maxBytes": 50 * 1024 * 1024,
        "backupCount": 10,
        "formatter": "json",
        "filters": ["request_context"],
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "apps.core.logging.RequestContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(process)d",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": _handlers,
    "root": {"handlers": list(_handlers), "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "websockets": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}
