"""GET /api/v1/: an index of the API (JSON), read from the URLconf itself, so it never drifts
from the routes each app mounts under /api/v1/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.http import require_GET

API_ROOT = "api/v1/"


def _walk(patterns: list[Any], prefix: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            rows += _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and entry.name and not route.startswith("^"):
            rows.append({"path": "/" + prefix + route, "name": entry.name})
    return rows


def api_endpoints() -> list[dict[str, str]]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == API_ROOT:
            rows = _walk(entry.url_patterns, API_ROOT)
            return sorted({row["path"]: row for row in rows if row["path"] != "/" + API_ROOT}.values(),
                          key=lambda row: row["path"])  # fmt: skip
    return []


@require_GET
def api_index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "name": "PaperDesk API",
            "version": "v1",
            "paper_trading_only": True,
            "docs": "/api/docs/",
            "schema": "/api/schema/",
            "auth": {"session": "/login/", "jwt": "/api/v1/auth/token/"},
            "endpoints": api_endpoints(),
        }
    )
