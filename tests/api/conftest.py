from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.core.api_throttling import throttle_local_clear
from apps.core.auth_jwt import jwt_user_cache_clear
from apps.market.api_reads import market_api_cache_clear

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and lockouts live in the cache, users and latest candles in process
    # memory for a few seconds: each test starts clean.
    cache.clear()
    jwt_user_cache_clear()
    market_api_cache_clear()
    throttle_local_clear()
    yield
    cache.clear()
    jwt_user_cache_clear()
    market_api_cache_clear()
    throttle_local_clear()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user(username="mallory", password=PASSWORD)


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    """Alice, authenticated by JWT."""
    return bearer_client(user)


@pytest.fixture
def other_api(other_user) -> APIClient:
    """Mallory, authenticated by JWT: must never see or touch Alice's objects."""
    return bearer_client(other_user)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
