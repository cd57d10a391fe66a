"""Issue 18 findings 2 and 3 through the real server: daphne started with docker/entrypoint.sh's
own flags, the product's settings configured by the environment, over HTTP from loopback
addresses (127.0.0.2 plays nginx, the one trusted proxy)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from tests.api.conftest import PASSWORD
from tests.api.daphne_server import DaphneServer, daphne_env, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NGINX = "127.0.0.2"
ANON_LIMIT = 50
SECRET_KEY = secrets.token_urlsafe(64)  # the servers' own: production refuses the dev key


def _database_url(*, port: int | None = None) -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER'] or 'postgres'}@127.0.0.1:{port or settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def serve(tmp_path: Path):
    servers: list[DaphneServer] = []

    def start(**env: str) -> DaphneServer:
        server = DaphneServer(
            env=daphne_env(DJANGO_SECRET_KEY=SECRET_KEY, **env), log=tmp_path / f"daphne-{len(servers)}.log"
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


def _bearer(user) -> str:
    """An access token for ``user`` signed with the servers' key."""
    token = TokenBackend(algorithm="HS256", signing_key=SECRET_KEY).encode(AccessToken.for_user(user).payload)
    return f"Bearer {token}"


def _json(body: bytes) -> dict:
    return json.loads(body)


def _obtain(server: DaphneServer, password: str, *, forwarded: str, source: str = "127.0.0.1"):
    payload = json.dumps({"username": "alice", "password": password}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded}
    status, _headers, body = server.request("POST", "/api/v1/auth/token/", body=payload, headers=headers, source=source)
    return status, _json(body)


def _error_code(result) -> tuple[int, str | None]:
    status, body = result
    return status, body.get("error", {}).get("code")


def test_forged_forwarded_for_neither_escapes_lockout_nor_throttle(alice, serve):
    server = serve(DATABASE_URL=_database_url(), TRUSTED_PROXIES=NGINX, API_THROTTLE_ANON_PER_MINUTE=str(ANON_LIMIT))
    # A client straight at daphne (no trusted proxy): 40 guesses, each with a new forged address.
    guesses = [_error_code(_obtain(server, "wrong", forwarded=f"198.18.0.{n + 1}")) for n in range(40)]
    assert guesses == [(401, "no_active_account")] * 5 + [(429, "login_locked")] * 35, guesses
    assert _error_code(_obtain(server, PASSWORD, forwarded="198.19.0.1")) == (429, "login_locked")

    # Behind the trusted proxy the proxy-written address counts, a forged prefix does not.
    for n in range(5):
        _obtain(server, "wrong", forwarded=f"6.6.6.{n}, 198.51.100.7", source=NGINX)
    assert _error_code(_obtain(server, PASSWORD, forwarded="198.51.100.7", source=NGINX)) == (429, "login_locked")
    status, body = _obtain(server, PASSWORD, forwarded="198.51.100.8", source=NGINX)
    assert status == 200 and "access" in body

    # The anonymous throttle: fixed one-minute windows, so 2 x limit + 1 requests must meet a 429.
    codes = []
    for n in range(2 * ANON_LIMIT + 1):
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"198.18.1.{n + 1}"}
        status, _h, _b = server.request(
            "POST", "/api/v1/auth/token/verify/", body=b'{"token": "x"}', headers=headers, source="127.0.0.3"
        )
        codes.append(status)
        if status == 429:
            break
    assert codes[-1] == 429, codes


def test_error_shapes_through_daphne(alice, serve):
    server = serve(DATABASE_URL=_database_url())
    headers = {"Content-Type": "application/json", "Authorization": _bearer(alice)}
    nested = b"[" * 10_000 + b"]" * 10_000
    status, response_headers, body = server.request("POST", "/api/v1/orders/", body=nested, headers=headers)
    assert (status, _json(body)["error"]["code"]) == (400, "malformed_json")
    assert response_headers["content-type"].startswith("application/json")

    big = json.dumps({"symbol": "BTCUSDT", "pad": "x" * (5 * 1024 * 1024)}).encode()
    for chunked in (False, True):  # declared length, and none (Transfer-Encoding: chunked)
        status, response_headers, body = server.request(
            "POST", "/api/v1/orders/", body=big, headers=headers, chunked=chunked
        )
        assert (status, _json(body)["error"]["code"]) == (413, "payload_too_large"), (chunked, body[:300])


def _assert_503(result, dependency: str) -> None:
    status, headers, body = result
    assert status == 503, body[:500]
    assert headers["content-type"].startswith("application/json"), body[:500]
    error = _json(body)["error"]
    assert (error["code"], error["dependency"]) == ("dependency_unavailable", dependency)
    assert int(headers["retry-after"]) > 0


def _assert_503_page(result) -> None:
    status, headers, body = result
    assert status == 503, body[:500]
    assert headers["content-type"].startswith("text/html")
    assert b"paper-banner" in body and b"503" in body


def test_redis_down_through_daphne(alice, serve):
    server = serve(DATABASE_URL=_database_url(), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    credentials = json.dumps({"username": "alice", "password": PASSWORD}).encode()
    json_type = {"Content-Type": "application/json"}
    _assert_503(server.request("POST", "/api/v1/auth/token/", body=credentials, headers=json_type), "redis")
    bearer = {"Authorization": _bearer(alice)}
    _assert_503(server.request("GET", "/api/v1/markets/binance/BTCUSDT/ticker/", headers=bearer), "redis")
    _assert_503_page(server.request("GET", "/"))


def test_postgres_down_through_daphne(alice, serve):
    server = serve(DATABASE_URL=_database_url(port=free_port()))
    bearer = {"Authorization": _bearer(alice), "Content-Type": "application/json"}
    for method, path, body in [
        ("GET", "/api/v1/portfolios/", None),
        ("POST", "/api/v1/portfolios/", b'{"name": "p"}'),
        ("GET", "/api/v1/orders/", None),
        ("POST", "/api/v1/auth/token/", json.dumps({"username": "alice", "password": PASSWORD}).encode()),
    ]:
        _assert_503(server.request(method, path, body=body, headers=bearer), "postgres")
    _assert_503_page(server.request("GET", "/"))
