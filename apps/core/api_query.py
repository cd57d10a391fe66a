"""Query strings: only the parameters the schema declares (StrictQueryMiddleware), `ordering`
with an allow-list, query data for filter serializers, a CSV renderer."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from apps.core.api_errors import error_body
from apps.core.exceptions import ApplicationError, RuleError

QueryDeclarations = dict[tuple[type, str], frozenset[str]]
_recording: ContextVar[QueryDeclarations | None] = ContextVar("query_declarations", default=None)


def query_declaration_record(*, view: Any, method: str, operation: dict[str, Any]) -> None:
    """Called for each operation while the schema is generated (apps/core/api_schema.py)."""
    declared = _recording.get()
    if declared is not None:
        names = frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
        declared[(type(view), method.upper())] = names


@cache
def query_declarations() -> QueryDeclarations:
    """(view class, method) -> the query parameter names the OpenAPI schema documents for that
    operation. Generated once per process from the same declarations the schema is built from
    (extend_schema parameters, filter serializers, pagination), so the two cannot disagree."""
    from drf_spectacular.generators import SchemaGenerator

    declared: QueryDeclarations = {}
    token = _recording.set(declared)
    try:
        SchemaGenerator().get_schema(request=None, public=True)
    finally:
        _recording.reset(token)
    return declared


def query_errors(request: HttpRequest, declared: frozenset[str]) -> dict[str, list[str]]:
    errors = {}
    for name, values in request.GET.lists():
        if name not in declared:
            errors[name] = ["Unknown query parameter."]
        elif len(values) > 1:
            errors[name] = ["Given more than once."]
    return errors


class StrictQueryMiddleware:
    """A query parameter an API operation does not declare in the schema is a 400 naming it
    (``?limit=-1`` on a list without ``limit`` used to be ignored: a 200 that looked like it
    worked). Values are the views' business (filter serializers, pagination): out of range
    is a 400 there. Views outside the schema (/api/schema/, /api/docs/) are not checked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        view = getattr(view_func, "cls", None)
        if view is None or not request.GET:
            return None
        method = "GET" if request.method == "HEAD" else (request.method or "")
        declared = query_declarations().get((view, method))
        if declared is None:  # not an API operation (another method is a 405 from the view)
            return None
        errors = query_errors(request, declared)
        if not errors:
            return None
        name, messages = next(iter(errors.items()))
        return JsonResponse(error_body(code="invalid", message=f"{name}: {messages[0]}", fields=errors), status=400)


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
