"""Shared list-endpoint helpers: `ordering` with an allow-list, query data, a CSV renderer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from apps.core.exceptions import ApplicationError, RuleError


def ordering_parameter(allowed: list[str], default: str) -> OpenApiParameter:
    choices = [*allowed, *(f"-{name}" for name in allowed)]
    return OpenApiParameter(
        "ordering", str, OpenApiParameter.QUERY, required=False, enum=choices, description=f"Default: {default}."
    )


def query_data(request: Request) -> dict[str, str]:
    """Query parameters as a plain dict, for filter serializers.

    DRF treats a QueryDict like an HTML form: ``?symbol=`` on an optional field means "not
    given" and skips validation. A plain dict makes an empty value a validated value, so the
    API answers what its schema documents (400 for an empty enum or date)."""
    return request.query_params.dict()


def range_check(start: Any, end: Any, *, start_name: str = "start", end_name: str = "end") -> None:
    """``end`` before ``start`` is a 422: both are valid alone, the schema cannot relate them."""
    if start is not None and end is not None and start > end:
        message = f"{end_name} must not be before {start_name}."
        raise RuleError(message, fields={end_name: [message]})


def ordering_apply(queryset: QuerySet, *, request: Request, allowed: list[str], default: str) -> QuerySet:
    value = request.query_params.get("ordering", default)
    if value.lstrip("-") not in allowed:
        message = f"ordering must be one of {', '.join(allowed)} (prefix - for descending)."
        raise ApplicationError(message, code="invalid", fields={"ordering": [message]})
    # The primary key breaks ties so pages never overlap.
    tie = "-id" if value.startswith("-") else "id"
    return queryset.order_by(value, tie) if value.lstrip("-") != "id" else queryset.order_by(value)


class CsvRenderer:
    """Lets `Accept: text/csv` negotiate on CSV endpoints (which stream their own body);
    error bodies still come out as JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None
    ) -> bytes:
        import json

        return json.dumps(data).encode() if data is not None else b""
