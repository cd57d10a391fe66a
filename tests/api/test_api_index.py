"""GET /api/v1/ is an index of the API (JSON), built from the URLconf."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_api_root_is_a_json_index(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["docs"] == "/api/docs/" and body["schema"] == "/api/schema/"
    paths = {row["path"] for row in body["endpoints"]}
    assert {"/api/v1/orders/", "/api/v1/portfolios/"} <= paths
    assert all(p.startswith("/api/v1/") and p != "/api/v1/" for p in paths)


def test_api_index_takes_get_only_and_unknown_paths_stay_json_404(client):
    assert client.post("/api/v1/").status_code == 405
    response = client.get("/api/v1/nope/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
