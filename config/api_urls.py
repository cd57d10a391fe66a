"""/api/v1/: each app mounts its own api_urls."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("apps.core.api_urls")),
    path("", include("apps.safety.api_urls")),
    path("", include("apps.market.api_urls")),
    path("", include("apps.portfolio.api_urls")),
    path("", include("apps.bots.api_urls")),
    path("", include("apps.ops.api_urls")),
]
