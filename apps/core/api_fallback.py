"""JSON answers for /api/ URLs that match no route (the page 404 handler renders HTML)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.core.api_errors import error_body


# Exempt: a 404 must stay a JSON 404 for any method, never an HTML CSRF 403.
@csrf_exempt
def api_not_found(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    return JsonResponse(error_body(code="not_found", message="No such API endpoint."), status=404)
