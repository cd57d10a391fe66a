"""Error answers outside DRF: JSON under /api/ (the API error shape), the styled page elsewhere.

These are the URLconf's handler400/403/404/500 and what the outermost middleware
(apps/core/error_middleware.py) answers with. A failed dependency (apps/core/dependency_errors.py)
is a 503 naming it; an oversized body a 413; other uncaught errors a 500 without internals."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from apps.core.api_errors import error_body
from apps.core.dependency_errors import RETRY_AFTER_SECONDS, dependency_message, failed_dependency
from apps.core.json_body import payload_too_large_error

API_PREFIX = "/api/"

# status -> (code, message for the API, title and text for the page)
_GENERIC: dict[int, tuple[str, str, str, str]] = {
    400: ("bad_request", "The request could not be understood.", "Bad request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to do this.", "Forbidden", "You do not have access."),
    404: ("not_found", "No such API endpoint.", "Not found", "The page you asked for does not exist."),
    405: ("method_not_allowed", "Method not allowed.", "Method not allowed", "This page does not take that method."),
    413: ("payload_too_large", "The request body is too large.", "Request too large", "What you sent is too large."),
    500: (
        "server_error",
        "Something went wrong on our side. It has been logged; nothing was half-written.",
        "Server error",
        "Something went wrong on our side. It has been logged; nothing was half-written.",
    ),
    503: ("service_unavailable", "Service unavailable.", "Service unavailable", "Please try again in a few seconds."),
}


def is_api_request(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith(API_PREFIX)


def _generic(status: int) -> tuple[str, str, str, str]:
    return _GENERIC.get(status) or (
        _GENERIC[500] if status >= 500 else ("error", "Request refused.", "Error", "Request refused.")
    )


def api_error_response(
    *, status: int, code: str | None = None, message: str | None = None, **extra: Any
) -> JsonResponse:
    default_code, default_message, _title, _text = _generic(status)
    body = error_body(code=code or default_code, message=message or default_message)
    body["error"].update(extra)
    response = JsonResponse(body, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_error_response(*, status: int, message: str | None = None) -> HttpResponse:
    _code, _message, title, text = _generic(status)
    context = {"status": status, "title": title, "message": message or text}
    response = HttpResponse(loader.get_template("errors/standalone.html").render(context), status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_response_for(request: HttpRequest | None, exc: BaseException | None) -> HttpResponse:
    """The answer to an exception nothing else handled."""
    dependency = failed_dependency(exc)
    if dependency is not None:
        message = dependency_message(dependency)
        if is_api_request(request):
            return api_error_response(status=503, code="dependency_unavailable", message=message, dependency=dependency)
        return page_error_response(status=503, message=message)
    if isinstance(exc, RequestDataTooBig):
        message = payload_too_large_error().message
        if is_api_request(request):
            return api_error_response(status=413, message=message)
        return page_error_response(status=413, message=message)
    if is_api_request(request):
        return api_error_response(status=500)
    return page_error_response(status=500)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response_for(request, exception)
    if is_api_request(request):
        return api_error_response(status=400)
    return page_error_response(status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(status=403)
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(status=404)
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block: the exception is the one being handled.
    return error_response_for(request, sys.exc_info()[1])
