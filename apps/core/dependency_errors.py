"""Which backing service an exception says is down: "postgres", "redis" or "broker" (or None).

The API answers these with a 503 naming the dependency, the pages with the styled 503 page
(apps/core/error_responses.py). Database OperationalErrors also cover transient refusals
(deadlock, serialization failure, pool timeout): a 503 with Retry-After is the right answer
to those as well. The exception's cause chain is searched, so a wrapped error counts."""

from __future__ import annotations

from collections.abc import Iterator

RETRY_AFTER_SECONDS = 5


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_name() -> str:
    from django.db import connection

    return {"postgresql": "postgres"}.get(connection.vendor, connection.vendor)


def _kind(exc: BaseException) -> str | None:
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, (OperationalError, InterfaceError)):
        return _database_name()
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return "redis"
    if isinstance(exc, BrokerError):
        return "broker"
    return None


def failed_dependency(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    for link in _chain(exc):
        kind = _kind(link)
        if kind is not None:
            return kind
    return None


def dependency_message(dependency: str) -> str:
    return f"A service this request needs is unavailable ({dependency}). Try again in a few seconds."
