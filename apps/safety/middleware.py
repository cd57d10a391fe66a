"""HTTP guard for the trading endpoints: a request asking for real execution never
reaches a view. Refusals are 403 with the API error shape and are audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.core.api_errors import error_body
from apps.core.client_ip import client_ip
from apps.core.exceptions import ApplicationError
from apps.core.json_body import json_body_parse
from apps.safety.exceptions import RealTradingAttemptError
from apps.safety.guards import paper_trade_guard
from apps.safety.violations import LAYER_MIDDLEWARE

TRADING_PATH_RE = re.compile(r"^/api/v1/(orders|portfolios/[^/]+/orders|bots)(/|$)")
# The pages that place or change orders and bots: the same refusal (and audit) as the API.
PAGE_TRADING_PATH_RE = re.compile(r"^/(markets/[^/]+/[^/]+/ticket|portfolios/[^/]+/orders|bots)(/|$)")
ADMIN_PATH_RE = re.compile(r"^/admin/(portfolio|bots)/")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _request_actor(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    if request.headers.get("Authorization", "").startswith("Bearer "):
        # JWT users are only known to DRF; authenticate here so the audit names them.
        try:
            from rest_framework_simplejwt.authentication import JWTAuthentication

            result = JWTAuthentication().authenticate(request)  # type: ignore[arg-type]
        except Exception:  # an invalid token is the view's business; the refusal still stands
            return None
        return result[0] if result else None
    return None


def _body_payload(request: HttpRequest) -> Any:
    if request.method not in _BODY_METHODS or not request.body:
        return {}
    content_type = request.content_type or ""
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {key: values[-1] if len(values) == 1 else values for key, values in request.POST.lists()}
    try:
        return json_body_parse(request.body, encoding=request.encoding or "utf-8")
    except ApplicationError:
        if content_type == "application/json":
            raise  # the API parses JSON bodies with the same decoder: refuse now, as it would
        return {}  # any other type is refused by the view (415) without being read as an order


def _query_payload(request: HttpRequest) -> dict[str, Any]:
    return {key: values[-1] if len(values) == 1 else values for key, values in request.GET.lists()}


class PaperTradingGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        source = self._source(request)
        if source is not None:
            refusal = self._check(request, source)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    @staticmethod
    def _source(request: HttpRequest) -> str | None:
        if TRADING_PATH_RE.match(request.path):
            return "http"
        if request.method in _BODY_METHODS and PAGE_TRADING_PATH_RE.match(request.path):
            return "page"
        if request.method in _BODY_METHODS and ADMIN_PATH_RE.match(request.path):
            return "admin"
        return None

    @staticmethod
    def _check(request: HttpRequest, source: str) -> HttpResponse | None:
        try:
            body = _body_payload(request)
        except ApplicationError as exc:  # malformed, too deep or too large
            return JsonResponse(error_body(code=exc.code, message=exc.message, fields={}), status=exc.status)
        # Query flags are judged too, nested so a body key cannot shadow them.
        query = _query_payload(request)
        if isinstance(body, dict):
            payload = {**body, "query_params": query}
        else:
            payload = {"body": body if isinstance(body, list) else {}, "query_params": query}
        try:
            paper_trade_guard(
                payload=payload,
                actor=_request_actor(request),
                source=source,
                source_ip=client_ip(request),
                layer=LAYER_MIDDLEWARE,
            )
        except RealTradingAttemptError as exc:
            return JsonResponse(error_body(code=exc.code, message=exc.message, fields={}), status=exc.status)
        return None
