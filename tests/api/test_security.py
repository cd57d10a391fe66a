from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.api.conftest import PASSWORD, assert_error

ROOT = Path(__file__).resolve().parents[2]


def _obtain(client, password):
    return client.post("/api/v1/auth/token/", {"username": "alice", "password": password}, format="json")


@pytest.mark.django_db
@override_settings(LOGIN_LOCKOUT_ATTEMPTS=3)
def test_jwt_lockout_after_failures_even_with_right_password(anon, user):
    for _ in range(3):
        assert_error(_obtain(anon, "wrong"), 401)
    response = _obtain(anon, PASSWORD)
    err = assert_error(response, 429, "login_locked")
    assert "Too many failed login attempts" in err["message"]
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
@override_settings(LOGIN_LOCKOUT_ATTEMPTS=3)
def test_lockout_is_per_ip(user):
    from rest_framework.test import APIClient

    attacker = APIClient(REMOTE_ADDR="10.0.0.66")
    for _ in range(3):
        _obtain(attacker, "wrong")
    assert _obtain(attacker, PASSWORD).status_code == 429
    assert _obtain(APIClient(REMOTE_ADDR="10.0.0.7"), PASSWORD).status_code == 200


@pytest.mark.django_db
@override_settings(LOGIN_LOCKOUT_ATTEMPTS=3)
def test_success_resets_failure_count(anon, user):
    for _ in range(2):
        _obtain(anon, "wrong")
    assert _obtain(anon, PASSWORD).status_code == 200
    for _ in range(2):
        _obtain(anon, "wrong")
    assert _obtain(anon, PASSWORD).status_code == 200


@pytest.mark.django_db
@override_settings(LOGIN_LOCKOUT_ATTEMPTS=3)
def test_page_login_lockout_shows_clear_error(client, user):
    for _ in range(3):
        response = client.post("/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200  # form re-rendered, not logged in
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_page_login_works_and_requires_csrf(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 403
    page = strict.get("/login/")
    token = page.cookies["csrftoken"].value
    response = strict.post("/login/", {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
def test_session_api_write_requires_csrf(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post("/api/v1/auth/token/verify/", {"token": "x"}, content_type="application/json")
    # Token endpoints take no session: CSRF does not apply, the body is checked instead.
    assert response.status_code == 401


@pytest.mark.django_db
def test_security_headers_on_pages_and_api(client, api):
    for response in (client.get("/login/"), api.get("/api/v1/markets/exchanges/")):
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_swagger_ui_has_no_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html and "<style>" not in html
    assert "swagger-ui-bundle.js" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_schema_served(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://allowed.example"])
def test_cors_allow_list(api):
    ok = api.get("/api/v1/markets/exchanges/", HTTP_ORIGIN="https://allowed.example")
    assert ok["Access-Control-Allow-Origin"] == "https://allowed.example"
    other = api.get("/api/v1/markets/exchanges/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.django_db
def test_throttling_per_anon_ip_returns_429_with_retry_after(anon, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "2/min"}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates  # read at class definition: patch the class
    try:
        # A public endpoint: on protected ones DRF answers 401 before it counts.
        for _ in range(2):
            assert anon.post("/api/v1/auth/token/verify/", {"token": "x"}, format="json").status_code == 401
        response = anon.post("/api/v1/auth/token/verify/", {"token": "x"}, format="json")
    finally:
        AnonRateThrottle.THROTTLE_RATES = original
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_throttling_per_user(api, other_api):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [api.get("/api/v1/markets/exchanges/").status_code for _ in range(4)]
        other = other_api.get("/api/v1/markets/exchanges/").status_code
    finally:
        UserRateThrottle.THROTTLE_RATES = original
    assert codes == [200, 200, 200, 429]
    assert other == 200  # the budget is per user


def test_check_deploy_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60)[:60],
        "DJANGO_ALLOWED_HOSTS": "example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
