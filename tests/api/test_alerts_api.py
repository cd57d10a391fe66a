"""/api/v1/alerts/: notifications and the user's own notification rule; IDOR; staff view."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.ops.alerting import alert_raise
from apps.ops.models import AlertRule
from apps.safety.models import AuditEvent
from tests.api.conftest import PASSWORD, assert_error, bearer_client

pytestmark = pytest.mark.django_db

RULES = "/api/v1/alerts/rules/"


@pytest.fixture(autouse=True)
def _no_settings_rules(settings):
    settings.OPS_ALERT_RULES = []


@pytest.fixture
def staff_api(db):
    staff = get_user_model().objects.create_user(username="root", password=PASSWORD, is_staff=True)
    return bearer_client(staff)


def _create(client, **body):
    return client.post(RULES, {"email": "a@example.com", **body}, format="json")


def test_rule_create_update_delete_and_audit(api):
    assert api.get(RULES).json()["count"] == 0
    created = _create(api, kind="feed_down", min_severity="critical")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["name"].startswith("user:") and rule["mine"] is True and rule["has_webhook"] is False
    assert (rule["kind"], rule["min_severity"], rule["email_to"]) == ("feed_down", "critical", "a@example.com")
    assert_error(_create(api), 409, "alert_rule_exists")

    url = f"{RULES}{rule['id']}/"
    patched = api.patch(url, {"enabled": False, "kind": "*"}, format="json")
    assert patched.status_code == 200 and patched.json()["enabled"] is False and patched.json()["kind"] == "*"
    assert api.get(url).json()["id"] == rule["id"]
    assert api.delete(url).status_code == 204
    assert not AlertRule.objects.filter(pk=rule["id"]).exists()
    actions = set(AuditEvent.objects.filter(category="config").values_list("action", flat=True))
    assert {"alert_rule.create", "alert_rule.update", "alert_rule.delete"} <= actions


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"kind": "weather"}, "kind"),
        ({"min_severity": "meh"}, "min_severity"),
        ({"enabled": "yes"}, "enabled"),
        ({"email": ""}, "email"),  # enabled needs an address (alice has none on her account)
    ],
)
def test_rule_create_bad_input(api, body, field):
    err = assert_error(_create(api, **body), 400, "invalid")
    assert field in err["fields"], err


def test_rule_patch_refuses_unchangeable_fields(api):
    rule = _create(api).json()
    err = assert_error(api.patch(f"{RULES}{rule['id']}/", {"webhook_url": "http://evil/"}, format="json"), 400)
    assert "webhook_url" in err["fields"]
    err = assert_error(api.patch(f"{RULES}{rule['id']}/", {"email": ""}, format="json"), 400)
    assert "email" in err["fields"]


def test_notifications_listed_for_own_rule_only(api, other_api):
    _create(api, kind="feed_down", min_severity="info")
    _create(other_api, email="m@example.com", kind="bot_error", min_severity="info")
    alert_raise(kind="feed_down", severity="warning", title="binance feed down")
    alert_raise(kind="bot_error", severity="critical", title="bot 7 crashed")
    mine = api.get("/api/v1/alerts/").json()
    assert [n["title"] for n in mine["results"]] == ["binance feed down"]
    notification = mine["results"][0]
    assert notification["channel"] == "email" and notification["status"] == "pending"
    assert api.get(f"/api/v1/alerts/{notification['id']}/").json()["title"] == "binance feed down"
    assert api.get("/api/v1/alerts/?kind=bot_error").json()["count"] == 0
    assert api.get("/api/v1/alerts/?severity=warning").json()["count"] == 1
    theirs = other_api.get("/api/v1/alerts/").json()["results"]
    assert [n["title"] for n in theirs] == ["bot 7 crashed"]
    # IDOR: neither the notification nor the rule of someone else is visible or writable.
    assert_error(other_api.get(f"/api/v1/alerts/{notification['id']}/"), 404)
    rule_id = notification["rule"]
    assert_error(other_api.get(f"{RULES}{rule_id}/"), 404)
    assert_error(other_api.patch(f"{RULES}{rule_id}/", {"enabled": False}, format="json"), 404)
    assert_error(other_api.delete(f"{RULES}{rule_id}/"), 404)
    assert AlertRule.objects.get(pk=rule_id).enabled is True


@pytest.mark.parametrize("query", ["status=lost", "kind=*", "severity=", "since=yesterday", "page_size=0"])
def test_notification_filters_are_strict(api, query):
    assert_error(api.get(f"/api/v1/alerts/?{query}"), 400, "invalid")


def test_staff_see_everything_but_change_only_their_own(api, staff_api):
    rule = _create(api).json()
    alert_raise(kind="other", severity="critical", title="disk full")
    AlertRule.objects.create(name="ops-webhook", webhook_url="https://hooks.example.com/secret-token")
    rules = {r["name"]: r for r in staff_api.get(RULES).json()["results"]}
    assert rules["ops-webhook"]["has_webhook"] is True and "webhook_url" not in rules["ops-webhook"]
    assert rules[rule["name"]]["mine"] is False
    assert staff_api.get("/api/v1/alerts/").json()["count"] == 1
    assert_error(staff_api.patch(f"{RULES}{rule['id']}/", {"enabled": False}, format="json"), 403)
    assert_error(staff_api.delete(f"{RULES}{rules['ops-webhook']['id']}/"), 403)


def test_anonymous_refused(anon):
    assert_error(anon.get("/api/v1/alerts/"), 401)
    assert_error(anon.get(RULES), 401)
