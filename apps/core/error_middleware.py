"""The outermost middleware: under /api/ every answer is JSON, whatever failed.

- An /api/ body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before anything
  reads it (Django and the JSON parser refuse an undeclared one the same way).
- An exception that escapes the rest of the stack — the error handling itself failing, e.g. a
  got_request_exception receiver whose cache is down — gets the same answer handler500 gives.
- An error response under /api/ that is an HTML page or has no body at all (Django's CSRF
  page, a bare 405, DEBUG's technical page) is replaced by the API error shape, same status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.error_responses import api_error_response, error_response_for, is_api_request
from apps.core.json_body import body_size_limit, payload_too_large_error

logger = logging.getLogger(__name__)


def _declared_too_large(request: HttpRequest) -> bool:
    limit = body_size_limit()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # not a number: Django and the parser treat the body as empty
    return limit is not None and declared > limit


def _needs_api_shape(response: HttpResponse) -> bool:
    if response.status_code < 400 or getattr(response, "streaming", False):
        return False
    content_type = response.get("Content-Type", "")
    return content_type.startswith("text/html") or not response.content


class ErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = is_api_request(request)
        if api and _declared_too_large(request):
            return api_error_response(status=413, message=payload_too_large_error().message)
        try:
            response = self.get_response(request)
        except Exception as exc:
            logger.exception("error handling failed for %s %s", request.method, request.path)
            return error_response_for(request, exc)
        if api and _needs_api_shape(response):
            shaped = api_error_response(status=response.status_code)
            for header in ("Allow", "Retry-After", "X-Request-ID"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response
