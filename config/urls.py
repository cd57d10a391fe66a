from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("apps.core.urls")),
    path("", include("apps.web.urls")),
    path("", include("apps.portfolio.urls")),
    path("", include("apps.bots.urls")),
    path("", include("apps.safety.urls")),
    path("", include("apps.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split view: the init script is a separate URL, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# JSON under /api/, the styled page elsewhere (apps/core/error_responses.py).
handler400 = "apps.core.error_responses.error_400"
handler403 = "apps.core.error_responses.error_403"
handler404 = "apps.core.error_responses.error_404"
handler500 = "apps.core.error_responses.error_500"
