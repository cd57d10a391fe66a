"""Structured JSON logs (request id, user id and client IP on every record), plain text in embedded mode."""

from __future__ import annotations

from typing import Any

from config.env import env_choice, env_int, env_str

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOG_FILE = env_str("LOG_FILE", "")
# One file per process (apps.core.logfiles: app.json -> app.<role>.json, and
# app.<role>.<pid>.json in the Celery worker's prefork children), rotated by size; retention
# = LOG_FILE_MAX_MB x (LOG_FILE_BACKUPS + 1) on disk per process (docs/OPERATIONS.md "Logs").
# Production logs to stdout, which the docker json-file driver rotates per container.
LOG_FILE_MAX_MB = env_int("LOG_FILE_MAX_MB", 50, minimum=1, maximum=1024)
LOG_FILE_BACKUPS = env_int("LOG_FILE_BACKUPS", 10, minimum=1, maximum=100)
_PROCESS_ROLE = env_str("PROCESS_ROLE", "embedded")

_handlers: dict[str, dict[str, object]] = {
    "console": {
        "class": "logging.StreamHandler",
        "formatter": LOG_FORMAT,
        "filters": ["request_context"],
    }
}
if LOG_FILE:
    _handlers["file"] = {
        "class": "apps.core.logfiles.ProcessRotatingFileHandler",
        "filename": LOG_FILE,
        "role": _PROCESS_ROLE,
        "maxBytes": LOG_FILE_MAX_MB * 1024 * 1024,
        "backupCount": LOG_FILE_BACKUPS,
        "formatter": "json",
        "filters": ["request_context"],
    }

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "apps.core.logging.RequestContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(client_ip)s %(process)d",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
            # Which process wrote the line: web, worker, beat, feeds (one stream in Loki/ELK).
            "static_fields": {"role": _PROCESS_ROLE},
        },
    },
    "handlers": _handlers,
    "root": {"handlers": list(_handlers), "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "websockets": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        "apps.ops": {"level": "INFO"},
    },
}
