from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.safety.audit import audit_record
from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit_record(category="order", action="order_placed", message="m", data={"q": "1"})


def test_update_and_delete_are_refused_through_the_orm(event):
    event.message = "changed"
    with pytest.raises(PermissionError, match="append-only"):
        event.save()
    with pytest.raises(PermissionError, match="append-only"):
        event.delete()
    with pytest.raises(PermissionError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(message="x")
    with pytest.raises(PermissionError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().message == "m"


def test_admin_lists_and_filters_but_cannot_change_or_delete(admin_client, event):
    audit_record(category="safety", action="transport_refused", result="refused", message="nope")
    response = admin_client.get("/admin/safety/auditevent/?result__exact=refused&q=transport")
    assert response.status_code == 200
    assert b"transport_refused" in response.content and b"order_placed" not in response.content
    assert admin_client.get(f"/admin/safety/auditevent/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/safety/auditevent/add/").status_code == 403
    response = admin_client.post(f"/admin/safety/auditevent/{event.pk}/change/", {"message": "x"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).message == "m"
    response = admin_client.post(
        "/admin/safety/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert AuditEvent.objects.count() == 2


def test_api_shows_own_events_and_staff_see_all(client):
    users = get_user_model().objects
    alice, bob = users.create_user("alice", password="x"), users.create_user("bob", password="x")
    staff = users.create_user("staff", password="x", is_staff=True)
    audit_record(category="order", action="a1", actor=alice)
    audit_record(category="order", action="b1", actor=bob, result="refused")
    client.force_login(alice)
    data = client.get("/api/v1/safety/audit-events/").json()
    assert [e["action"] for e in data["results"]] == ["a1"]
    client.force_login(staff)
    assert {e["action"] for e in client.get("/api/v1/safety/audit-events/").json()["results"]} == {"a1", "b1"}
    data = client.get("/api/v1/safety/audit-events/?result=refused").json()
    assert [e["action"] for e in data["results"]] == ["b1"]
    assert client.get("/api/v1/safety/audit-events/?category=nope").status_code == 400


def test_status_api_and_banner(client):
    from apps.core.banner import banner_state

    assert client.get("/api/v1/safety/").status_code in (401, 403)
    client.force_login(get_user_model().objects.create_user("carol", password="x"))
    body = client.get("/api/v1/safety/").json()
    assert body["ok"] is True and body["score"] == 100.0 and body["paper_only"] is True
    assert {c["name"] for c in body["checks"]} >= {"simulation_only", "paper_trading_mode", "real_trades_disallowed"}
    state = banner_state()
    assert state.safety_score == 100.0 and state.safety_ok is True


def test_safety_report_exit_codes(capsys, settings):
    call_command("safety_report", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["score"] == 100.0
    assert {"name", "passed", "weight", "critical", "message"} <= set(report["checks"][0])
    call_command("safety_report")
    assert "SAFE" in capsys.readouterr().out
    settings.PAPER_TRADING_MODE = "false"
    with pytest.raises(SystemExit) as exited:
        call_command("safety_report")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "PAPER_TRADING_MODE must be true, got 'false'" in out and "UNSAFE" in out
