from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from apps.ops.selectors import health_report_get


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    """The process is up and serving. Nothing else is checked: that is /health/ready."""
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Every registered dependency, with status and latency; 503 when any critical one fails."""
    report = health_report_get()
    body = {**report.as_dict(), "checked_at": timezone.now().isoformat()}
    return JsonResponse(body, status=200 if report.ready else 503)
