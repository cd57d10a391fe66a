"""GET /api/v1/: an index of the API (JSON), read from the URLconf itself, so it never drifts
from the routes each app mounts under /api/v1/."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

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


class ApiIndexOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    paper_trading_only = serializers.BooleanField()
    docs = serializers.CharField()
    schema = serializers.CharField()
    auth = serializers.DictField(child=serializers.CharField())
    endpoints = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class ApiIndexApi(APIView):
    """Public, like the schema it points to: it lists routes, no data."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_index",
        summary="Index of the API: every endpoint under /api/v1/, the docs and the schema",
        responses=ApiIndexOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(
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
