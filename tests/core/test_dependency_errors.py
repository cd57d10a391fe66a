"""Which dependency an exception names (apps/core/dependency_errors.py), with the real
exceptions the real clients raise against a closed port (the API's answers:
tests/api/test_error_shapes.py)."""

from __future__ import annotations

import socket

import redis
from celery import Celery
from django.db import OperationalError

from apps.core.dependency_errors import failed_dependency


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def broker_down_error() -> BaseException:
    # Not the current app: a new Celery app becomes current by default, and every shared task
    # of the rest of the run would then publish to this closed port.
    app = Celery("edge-probe", broker=f"amqp://guest:guest@127.0.0.1:{_closed_port()}//", set_as_current=False)
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    try:
        app.send_task("edge.probe", retry=False)
    except Exception as exc:
        return exc
    raise AssertionError("publishing to a closed port succeeded")


def _redis_error() -> BaseException:
    try:
        redis.Redis(port=_closed_port(), socket_connect_timeout=2).ping()
    except Exception as exc:
        return exc
    raise AssertionError("a closed port answered PING")


def test_real_client_errors_name_their_dependency():
    assert failed_dependency(_redis_error()) == "redis"
    assert failed_dependency(broker_down_error()) == "broker"
    assert failed_dependency(OperationalError("connection refused")) in ("postgres", "sqlite")


def test_wrapped_errors_count_and_others_do_not():
    try:
        try:
            raise _redis_error()
        except Exception as inner:
            raise RuntimeError("while caching") from inner
    except RuntimeError as outer:
        assert failed_dependency(outer) == "redis"
    assert failed_dependency(ValueError("x")) is None
    assert failed_dependency(None) is None
