"""The skeleton: pages, admin, API docs, metrics, health, checks, migrations, demo user."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from apps.core.services import demo_user_ensure

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["/", "/login/", "/health/live", "/metrics", "/api/schema/", "/api/docs/", "/admin/login/"]
)
def test_public_pages_answer(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def test_every_page_shows_the_paper_trading_banner(client):
    for url in ["/", "/login/"]:
        assert b"PAPER TRADING" in client.get(url).content


def test_swagger_ui_uses_vendored_assets_only(client):
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert not asset.startswith(("http://", "https://", "//")), asset
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset


def test_schema_is_openapi(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.json()["openapi"].startswith("3.")


def test_metrics_are_prometheus_text(client):
    body = client.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in body or "python_info" in body


def test_health_live(client):
    assert client.get("/health/live").json() == {"status": "ok"}


def test_admin_works_for_staff(client):
    demo_user_ensure(password="pw-for-tests")
    client.login(username="demo", password="pw-for-tests")
    assert client.get("/admin/").status_code == 200


def test_login_and_logout(client):
    demo_user_ensure(password="pw-for-tests")
    response = client.post("/login/", {"username": "demo", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert b"demo" in client.get("/").content
    client.post("/logout/")
    assert b"Log in" in client.get("/").content


def test_bad_login_shows_an_error_next_to_the_form(client):
    response = client.post("/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_ensure_demo_user_command_prints_login_once():
    out = StringIO()
    call_command("ensure_demo_user", stdout=out)
    assert "password:" in out.getvalue()
    out = StringIO()
    call_command("ensure_demo_user", stdout=out)
    assert "already exists" in out.getvalue()


def test_custom_404_page(client):
    response = client.get("/definitely-not-here/")
    assert response.status_code == 404
    assert b"PAPER TRADING" in response.content


def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_system_checks_pass():
    call_command("check")


def test_request_id_is_echoed(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = client.get("/health/live", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32
