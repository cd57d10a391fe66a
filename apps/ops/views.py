from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    """The process is up and serving. Nothing else is checked: that is /health/ready."""
    return JsonResponse({"status": "ok"})
