"""/api/v1/: each app mounts its own api_urls; unmatched paths get a JSON 404."""

from __future__ import annotations

from django.urls import include, path, re_path

from apps.core.api_fallback import api_not_found
from apps.core.api_index import ApiIndexApi

urlpatterns = [
    path("", ApiIndexApi.as_view(), name="api-index"),
    path("auth/", include("apps.core.auth_urls")),
    path("", include("apps.core.api_urls")),
    path("", include("apps.safety.api_urls")),
    path("", include("apps.market.api_urls")),
    path("", include("apps.portfolio.api_urls")),
    path("", include("apps.bots.api_urls")),
    path("", include("apps.ops.api_urls")),
    re_path(r"^(?P<unmatched>[\s\S]*)$", api_not_found),  # [\s\S]: paths may hold %0A
]
