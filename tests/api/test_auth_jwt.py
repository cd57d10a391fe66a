from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.api.conftest import PASSWORD, assert_error

pytestmark = pytest.mark.django_db
ME_URL = "/api/v1/auth/token/verify/"


def _obtain(anon, username="alice", password=PASSWORD):
    return anon.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_obtain_refresh_verify_logout_cycle(anon, user):
    pair = _obtain(anon).json()
    assert set(pair) == {"access", "refresh"}

    assert anon.post(ME_URL, {"token": pair["access"]}, format="json").json() == {"valid": True}

    rotated = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh"] != pair["refresh"]

    # Rotation blacklisted the old refresh token.
    reused = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert_error(reused, 401, "token_not_valid")

    assert anon.post("/api/v1/auth/logout/", {"refresh": new["refresh"]}, format="json").status_code == 204
    after_logout = anon.post("/api/v1/auth/token/refresh/", {"refresh": new["refresh"]}, format="json")
    assert_error(after_logout, 401, "token_not_valid")


def test_access_token_authenticates_api(anon, user):
    access = _obtain(anon).json()["access"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert anon.get("/api/v1/markets/exchanges/").status_code == 200


def test_wrong_password_is_401_uniform(anon, user):
    err = assert_error(_obtain(anon, password="nope"), 401)
    assert "credentials" in err["message"]


def test_missing_fields_is_400(anon):
    err = assert_error(anon.post("/api/v1/auth/token/", {}, format="json"), 400, "invalid")
    assert set(err["fields"]) == {"username", "password"}


def test_expired_access_token_rejected(anon, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(anon.get("/api/v1/markets/exchanges/"), 401, "token_not_valid")
    assert_error(anon.post(ME_URL, {"token": str(token)}, format="json"), 401, "token_not_valid")


def test_tampered_token_rejected(anon, user):
    token = str(AccessToken.for_user(user))
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{flipped}")
    assert_error(anon.get("/api/v1/markets/exchanges/"), 401, "token_not_valid")


def test_token_signed_with_other_key_rejected(anon, user):
    forged = jwt.encode({"token_type": "access", "user_id": str(user.pk), "exp": 9999999999, "jti": "x"}, "k" * 64)
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_error(anon.get("/api/v1/markets/exchanges/"), 401, "token_not_valid")


def test_refresh_token_is_not_an_access_token(anon, user):
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user)}")
    assert_error(anon.get("/api/v1/markets/exchanges/"), 401, "token_not_valid")


def test_logout_with_garbage_is_401(anon):
    assert_error(anon.post("/api/v1/auth/logout/", {"refresh": "garbage"}, format="json"), 401)


def test_unauthenticated_is_401_with_www_authenticate(anon):
    response = anon.get("/api/v1/markets/exchanges/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_path_is_json_404(api):
    assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_session_auth_works_for_pages_and_api(client, user):
    client.force_login(user)
    assert client.get("/api/v1/markets/exchanges/").status_code == 200
