"""Reachability probes for the external services (Postgres, Redis, RabbitMQ).

Used by the test settings and fixtures: locally an unreachable service skips the tests
that need it; with CI=true it is a failure, never a skip.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "amqp": 5672}


def service_reachable(url: str, *, timeout: float = 0.5) -> bool:
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
