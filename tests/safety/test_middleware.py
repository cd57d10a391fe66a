from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from apps.safety.models import AuditEvent

pytestmark = pytest.mark.django_db

PAPER = {"symbol": "BTCUSDT", "side": "buy", "type": "market", "quantity": "0.01"}


@pytest.fixture
def user_client(client):
    user = get_user_model().objects.create_user("bob", password="pw")
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.parametrize(
    "path",
    ["/api/v1/orders", "/api/v1/orders/", "/api/v1/portfolios/3/orders/", "/api/v1/bots/", "/api/v1/bots/5/"],
)
def test_trading_paths_refuse_real_execution_with_403(user_client, path):
    response = user_client.post(
        path, data=json.dumps({**PAPER, "execution": "exchange"}), content_type="application/json"
    )
    assert response.status_code == 403
    body = response.json()
    assert body["error"]["code"] == "real_trading_refused"
    assert "execution" in body["error"]["message"]
    assert body["error"]["fields"] == {}
    event = AuditEvent.objects.get()
    assert event.actor == user_client.user and event.action == "trade_refused_http"
    assert event.data["layer"] == "middleware" and event.source_ip == "127.0.0.1"


def test_query_flags_are_refused_too(user_client):
    response = user_client.get("/api/v1/orders/?mode=live")
    assert response.status_code == 403
    response = user_client.post("/api/v1/orders/?live=true", data=json.dumps(PAPER), content_type="application/json")
    assert response.status_code == 403
    assert AuditEvent.objects.count() == 2


def test_form_bodies_are_checked(user_client):
    response = user_client.post("/api/v1/orders/", data={**PAPER, "apiKey": "k"})
    assert response.status_code == 403


def test_paper_requests_and_other_paths_pass_through(user_client):
    response = user_client.post("/api/v1/orders/", data=json.dumps(PAPER), content_type="application/json")
    assert response.status_code != 403
    response = user_client.post("/api/v1/other/", data=json.dumps({"mode": "live"}), content_type="application/json")
    assert response.status_code != 403
    response = user_client.post("/api/v1/orders/", data="{not json", content_type="application/json")
    assert response.status_code != 403
    assert not AuditEvent.objects.exists()
