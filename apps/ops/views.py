from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

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


def _metrics_token_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition of this process (django-prometheus). With METRICS_TOKEN set only
    its bearer gets it; without one it is anonymous where METRICS_ANONYMOUS, else absent."""
    token = settings.METRICS_TOKEN
    if token:
        if not _metrics_token_matches(request, token):
            response = HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not settings.METRICS_ANONYMOUS:
        raise Http404("metrics are not served anonymously here")
    return ExportToDjangoView(request)
