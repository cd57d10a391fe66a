"""/api/v1/alerts/: notifications, rules and the trader's own notification preferences;
IDOR; the staff view."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.bots.services import bot_create
from apps.ops.alerting import alert_raise
from apps.ops.models import AlertNotification, AlertRule, NotificationPreference
from apps.portfolio.services import portfolio_create
from apps.safety.models import AuditEvent
from tests.api.conftest import PASSWORD, assert_error, bearer_client

pytestmark = pytest.mark.django_db

PREFS, RULES, ALERTS = "/api/v1/alerts/preferences/", "/api/v1/alerts/rules/", "/api/v1/alerts/"


@pytest.fixture(autouse=True)
def _no_settings_rules(settings):
    settings.OPS_ALERT_RULES = []


@pytest.fixture
def staff_api(db):
    staff = get_user_model().objects.create_user(username="root", password=PASSWORD, is_staff=True)
    return bearer_client(staff)


def _bot(owner, name: str):
    portfolio = portfolio_create(owner=owner, name=f"p-{name}")
    return bot_create(owner=owner, portfolio=portfolio, name=name, symbol="BTCUSDT", strategy="dca")


def _subscribe(client, **body):
    payload = {"email_enabled": True, "email": "a@example.com", "kinds": ["bot_error"], **body}
    return client.put(PREFS, payload, format="json")


def test_preferences_put_get_patch_delete(api, user):
    assert_error(api.get(PREFS), 404)
    saved = _subscribe(api)
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["kinds"] == ["bot_error"] and body["email_address"] == "a@example.com" and body["rule"]
    assert api.get(PREFS).json() == body
    patched = api.patch(PREFS, {"kinds": ["bot_error", "kill_switch"]}, format="json").json()
    assert patched["kinds"] == ["bot_error", "kill_switch"] and patched["email"] == "a@example.com"
    rule = AlertRule.objects.get(pk=body["rule"])
    assert rule.enabled and rule.email_to == "a@example.com" and rule.source == "user"
    assert api.delete(PREFS).status_code == 204
    assert not NotificationPreference.objects.filter(user=user).exists()
    assert not AlertRule.objects.filter(pk=body["rule"]).exists()
    assert_error(api.delete(PREFS), 404)
    actions = set(AuditEvent.objects.filter(category="config").values_list("action", flat=True))
    assert {"notification_preference.save", "notification_preference.delete"} <= actions


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"kinds": ["feed_down"]}, "kinds"),  # operators' alerts are not for traders
        ({"kinds": "bot_error"}, "kinds"),
        ({"email_enabled": "yes"}, "email_enabled"),
        ({"webhook_url": "http://hooks.example.com/x"}, "webhook_url"),  # https only
        ({"webhook_url": "https://127.0.0.1/x"}, "webhook_url"),  # a named host only
        ({"webhook_url": "http://["}, "webhook_url"),
        ({"webhook_url": "https://" + "a" * 64 + ".example.com/"}, "webhook_url"),  # a label is <= 63
    ],
)
def test_preferences_bad_input(api, body, field):
    err = assert_error(_subscribe(api, **body), 400, "invalid")
    assert field in err["fields"], err


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": ""}, "email"),  # email on, and alice has no address on her account
        ({"webhook_url": "https://hooks.internal/x"}, "webhook_url"),  # never an internal host
    ],
)
def test_preferences_rules_beyond_the_schema_are_422(api, body, field):
    # Each field is valid alone (the schema accepts the body); a rule between them or about
    # the host refuses it.
    err = assert_error(_subscribe(api, **body), 422, "invalid")
    assert field in err["fields"], err


def test_preferences_take_a_webhook_url_of_200_characters(api):
    url = "https://hooks.example.com/" + "x" * (200 - len("https://hooks.example.com/"))
    response = _subscribe(api, webhook_url=url)
    assert response.status_code == 200, response.content
    assert response.json()["webhook_url"] == url
    assert_error(_subscribe(api, webhook_url=url + "x"), 400, "invalid")


def test_preferences_patch_refuses_unknown_fields(api):
    _subscribe(api)
    err = assert_error(api.patch(PREFS, {"min_severity": "info"}, format="json"), 400)
    assert "min_severity" in err["fields"]


def test_notifications_of_own_bots_only(api, other_api, user, other_user):
    _subscribe(api)
    _subscribe(other_api, email="m@example.com")
    mine, theirs = _bot(user, "mine"), _bot(other_user, "theirs")
    alert_raise(kind="bot_error", severity="warning", title="mine failed", data={"bot_id": mine.pk})
    alert_raise(kind="bot_error", severity="critical", title="theirs failed", data={"bot_id": theirs.pk})
    listed = api.get(ALERTS).json()
    assert [n["title"] for n in listed["results"]] == ["mine failed"]
    notification = listed["results"][0]
    assert notification["channel"] == "email" and notification["status"] == "pending"
    assert api.get(f"{ALERTS}{notification['id']}/").json()["title"] == "mine failed"
    assert api.get(f"{ALERTS}?severity=critical").json()["count"] == 0
    assert api.get(f"{ALERTS}?kind=bot_error&status=pending").json()["count"] == 1
    assert [n["title"] for n in other_api.get(ALERTS).json()["results"]] == ["theirs failed"]
    rules = api.get(RULES).json()["results"]
    assert [r["id"] for r in rules] == [notification["rule"]] and rules[0]["mine"] is True
    # IDOR: someone else's notification and rule are 404, like missing ones.
    assert_error(other_api.get(f"{ALERTS}{notification['id']}/"), 404)
    assert_error(other_api.get(f"{RULES}{notification['rule']}/"), 404)


@pytest.mark.parametrize("query", ["status=lost", "kind=*", "severity=", "since=yesterday", "page_size=0"])
def test_notification_filters_are_strict(api, query):
    assert_error(api.get(f"{ALERTS}?{query}"), 400, "invalid")


def test_staff_see_every_rule_and_notification(api, user, staff_api):
    _subscribe(api)
    AlertRule.objects.create(name="ops-webhook", webhook_url="https://hooks.example.com/secret-token", kind="*")
    alert_raise(kind="feed_down", severity="critical", title="binance feed down")
    alert_raise(kind="bot_error", severity="warning", title="bot failed", data={"bot_id": _bot(user, "b").pk})
    rules = {r["name"]: r for r in staff_api.get(RULES).json()["results"]}
    assert rules["ops-webhook"]["has_webhook"] is True and "webhook_url" not in rules["ops-webhook"]
    assert rules[f"user:{user.pk}"]["mine"] is False
    titles = {n["title"] for n in staff_api.get(ALERTS).json()["results"]}
    assert titles == {"binance feed down", "bot failed"}
    # The trader sees only their own bot's alert, not the operators' feed alert.
    assert [n["title"] for n in api.get(ALERTS).json()["results"]] == ["bot failed"]
    assert AlertNotification.objects.count() == 3  # ops webhook got both, alice's email one


def test_anonymous_refused(anon):
    for url in (ALERTS, RULES, PREFS):
        assert_error(anon.get(url), 401)
