"""PostgreSQL connection pool options per process role (settings' DATABASES OPTIONS).

Why a pool: Django keeps one connection per thread. Daphne runs every request in a thread
of its own, so with persistent connections (CONN_MAX_AGE > 0) each finished thread left an
idle connection behind until the server's max_connections ran out. With the pool a process
never holds more than ``max_size`` connections, and Django hands each one back at the end
of the request or task (CONN_MAX_AGE = 0, which the pool requires).

Sizing (DATABASE_POOL_SIZE overrides it per process; the sum over all processes must stay
under the server's max_connections, see docs/OPERATIONS.md): a process needs one connection
per thread that uses the ORM at the same time. A request that finds the pool empty waits up
to DATABASE_POOL_TIMEOUT seconds, then fails with OperationalError (a 503, not a new
connection).
"""

from __future__ import annotations

from typing import Any

from config.env import env_float, env_int

# Default max_size per PROCESS_ROLE. web: daphne's concurrent sync requests; worker: per
# prefork child (one task at a time, plus headroom for on-commit hooks); feeds: one writer
# thread per exchange plus the matcher and candle closer; embedded: everything in one process.
POOL_SIZE_DEFAULTS: dict[str, int] = {"web": 10, "worker": 2, "beat": 2, "feeds": 6, "monitor": 2, "embedded": 12}
POOL_TIMEOUT_DEFAULT = 10.0
# Connections above min_size that sat unused this long are closed (psycopg_pool max_idle).
POOL_MAX_IDLE_SECONDS = 300.0


def application_name(role: str) -> str:
    """What pg_stat_activity shows for this process's connections (one name per role)."""
    return f"paperdesk-{role}"


def database_pool_options(role: str) -> dict[str, Any]:
    """OPTIONS for the Postgres DATABASES entry of a process of this role.

    The test role runs without a pool: pytest-django creates and drops databases under it
    and tests that start servers count their connections; the pool itself is exercised by
    tests that start real processes (tests/core/test_database_pool.py)."""
    options: dict[str, Any] = {"application_name": application_name(role)}
    if role == "test":
        return options
    max_size = env_int("DATABASE_POOL_SIZE", POOL_SIZE_DEFAULTS.get(role, 4), minimum=1, maximum=90)
    options["pool"] = {
        "name": application_name(role),
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0, maximum=max_size),
        "max_size": max_size,
        "timeout": env_float("DATABASE_POOL_TIMEOUT", POOL_TIMEOUT_DEFAULT, minimum=0.1),
        "max_idle": POOL_MAX_IDLE_SECONDS,
    }
    return options
