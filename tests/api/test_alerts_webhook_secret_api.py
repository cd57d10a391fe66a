"""/api/v1/alerts/preferences/: the webhook signing secret is shown once, on creation and on
rotation (issue 18, finding 6)."""

from __future__ import annotations

import pytest

from apps.ops.models import AlertRule
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

PREFS, SECRET = "/api/v1/alerts/preferences/", "/api/v1/alerts/preferences/secret/"


def _save(api, **body):
    payload = {"email_enabled": False, "webhook_url": "https://hooks.example.com/h", "kinds": ["bot_error"], **body}
    return api.put(PREFS, payload, format="json")


def test_the_signing_secret_is_shown_once_and_rotates(api, user):
    assert_error(api.post(SECRET), 409, "no_webhook")  # no webhook yet
    first = _save(api).json()
    secret = first["signing_secret"]
    assert secret and AlertRule.objects.get(pk=first["rule"]).signing_secret == secret
    assert _save(api).json()["signing_secret"] is None
    assert api.get(PREFS).json()["signing_secret"] is None
    rotated = api.post(SECRET)
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["signing_secret"] not in ("", secret)
    assert AlertRule.objects.get(pk=first["rule"]).signing_secret == rotated.json()["signing_secret"]
    assert _save(api, webhook_url="").json()["signing_secret"] is None
    assert AlertRule.objects.get(pk=first["rule"]).signing_secret == ""


def test_rotation_takes_no_body(api, user):
    _save(api)
    err = assert_error(api.post(SECRET, {"secret": "mine"}, format="json"), 400, "invalid")
    assert "secret" in err["fields"]
