"""Issue 18 finding 3: one error shape under /api/ whatever fails, the styled page elsewhere.

Too-deep or malformed JSON is a 400, an oversized body a 413, a dependency that is down a 503
naming it; never an HTML page under /api/. Through Django's whole handler and middleware
stack (the test client, exceptions not re-raised); tests/api/test_error_shapes_daphne.py
repeats the dependency cases through a daphne process."""

from __future__ import annotations

import json
import socket

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.core.auth_jwt import jwt_user_cache_clear
from apps.core.json_body import JSON_MAX_DEPTH
from tests.api.conftest import PASSWORD, assert_error

pytestmark = pytest.mark.django_db

ORDER = {"symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "0.01"}
WRITE_PATHS = ["/api/v1/orders/", "/api/v1/portfolios/", "/api/v1/auth/token/"]


def _client(user=None) -> APIClient:
    # The test client re-raises a view's exception by default; the server would answer.
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def _post_raw(client: APIClient, path: str, body: bytes | str):
    return client.generic("POST", path, body, content_type="application/json")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is: nothing listens there


@pytest.mark.parametrize("path", WRITE_PATHS)
@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        json.dumps({**ORDER, "extra": json.loads("[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1))}),
    ],
    ids=["array-10000", "object-10000", "just-too-deep"],
)
def test_too_deep_json_is_a_400_json(user, path, body):
    err = assert_error(_post_raw(_client(user), path, body), 400, "malformed_json")
    assert "deep" in err["message"]


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_malformed_json_is_a_400_json(user, path):
    err = assert_error(_post_raw(_client(user), path, '{"symbol": "BTCUSDT",'), 400, "malformed_json")
    assert "JSON" in err["message"]


def test_json_at_the_depth_limit_is_judged_normally(user):
    nested = json.loads("[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1))
    response = _post_raw(_client(user), "/api/v1/portfolios/", json.dumps({"name": "deep", "note": nested}))
    assert response.status_code in (201, 400)  # the serializer's call, not the parser's
    if response.status_code == 400:
        assert response.json()["error"]["code"] != "malformed_json"


@pytest.mark.parametrize("path", [*WRITE_PATHS, "/api/v1/no-such-endpoint/"])
def test_oversized_body_is_a_413_json(user, path):
    body = json.dumps({**ORDER, "pad": "x" * (5 * 1024 * 1024)})
    err = assert_error(_post_raw(_client(user), path, body), 413, "payload_too_large")
    assert "MB" in err["message"] or "bytes" in err["message"]


def test_oversized_page_form_is_a_styled_413_page(client, user):
    client.raise_request_exception = False
    response = client.post("/login/", {"username": "alice", "password": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"paper-banner" in response.content  # the project's page, not Django's


def _redis_down():
    url = f"redis://127.0.0.1:{closed_port()}/0"
    return override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    )


def _assert_dependency_503(response, dependency: str) -> None:
    err = assert_error(response, 503, "dependency_unavailable")
    assert err["dependency"] == dependency
    assert dependency in err["message"]
    assert int(response["Retry-After"]) > 0


def test_redis_down_token_obtain_is_a_503_json(user):
    with _redis_down():
        response = _client().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    _assert_dependency_503(response, "redis")


def test_redis_down_ticker_is_a_503_json(user):
    with _redis_down():
        response = _client(user).get("/api/v1/markets/binance/BTCUSDT/ticker/")
    _assert_dependency_503(response, "redis")


def test_redis_down_home_page_is_the_styled_503_page(client):
    client.raise_request_exception = False
    with _redis_down():
        response = client.get("/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"paper-banner" in response.content and b"503" in response.content


@pytest.fixture
def postgres_down(user):
    """The default connection pointed at a closed port (restored for the test's teardown)."""
    original = connection.settings_dict.copy()
    token = RefreshToken.for_user(user).access_token
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(closed_port())})
    if connection.vendor == "sqlite":
        pytest.skip("needs the Postgres test database")
    jwt_user_cache_clear()
    try:
        yield str(token)
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/portfolios/", None),
        ("POST", "/api/v1/portfolios/", {"name": "p"}),
        ("POST", "/api/v1/orders/", ORDER),
        ("GET", "/api/v1/markets/instruments/", None),
    ],
)
def test_postgres_down_api_calls_are_a_503_json(postgres_down, method, path, body):
    client = _client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {postgres_down}")
    response = client.generic(method, path, json.dumps(body) if body else "", content_type="application/json")
    _assert_dependency_503(response, "postgres")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_down_token_obtain_is_a_503_json(postgres_down):
    response = _client().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    _assert_dependency_503(response, "postgres")


def test_unexpected_error_under_api_is_a_500_json(user, monkeypatch):
    from apps.portfolio import apis

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(apis.PortfolioListCreateApi, "get", boom)
    err = assert_error(_client(user).get("/api/v1/portfolios/"), 500, "server_error")
    assert "unexpected" not in err["message"]  # no internals in the answer


def test_broker_down_is_a_503_json_naming_the_broker(user, monkeypatch):
    from apps.portfolio import apis
    from tests.core.test_dependency_errors import broker_down_error

    error = broker_down_error()  # what publishing a task raises with the broker unreachable

    def enqueue(*args, **kwargs):
        raise error

    monkeypatch.setattr(apis.PortfolioListCreateApi, "get", enqueue)
    _assert_dependency_503(_client(user).get("/api/v1/portfolios/"), "broker")


def test_exception_escaping_the_error_handling_is_still_json(user, monkeypatch):
    from django.core.signals import got_request_exception

    from apps.portfolio import apis

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    def receiver_fails(**kwargs):
        raise RuntimeError("the error handling itself failed")

    monkeypatch.setattr(apis.PortfolioListCreateApi, "get", boom)
    got_request_exception.connect(receiver_fails, dispatch_uid="edge-test-receiver")
    try:
        response = _client(user).get("/api/v1/portfolios/")
    finally:
        got_request_exception.disconnect(dispatch_uid="edge-test-receiver")
    assert_error(response, 500, "server_error")


def test_debug_technical_page_is_json_under_api(user, monkeypatch):
    from apps.portfolio import apis

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(apis.PortfolioListCreateApi, "get", boom)
    with override_settings(DEBUG=True):
        response = _client(user).get("/api/v1/portfolios/")
    assert_error(response, 500, "server_error")


def test_method_not_allowed_outside_drf_is_json_under_api(user):
    from django.http import HttpResponseNotAllowed
    from django.test import RequestFactory

    from apps.core.error_middleware import ErrorShapeMiddleware

    middleware = ErrorShapeMiddleware(lambda request: HttpResponseNotAllowed(["GET"]))
    response = middleware(RequestFactory().post("/api/v1/anything/"))
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert json.loads(response.content)["error"]["code"] == "method_not_allowed"
    page = ErrorShapeMiddleware(lambda request: HttpResponseNotAllowed(["GET"]))(RequestFactory().post("/x/"))
    assert page.status_code == 405 and not page.content  # pages are left alone
