from __future__ import annotations

from django.urls import path

from apps.core import auth_apis

urlpatterns = [
    path("token/", auth_apis.AuthTokenObtainApi.as_view(), name="api-token-obtain"),
    path("token/refresh/", auth_apis.AuthTokenRefreshApi.as_view(), name="api-token-refresh"),
    path("token/verify/", auth_apis.AuthTokenVerifyApi.as_view(), name="api-token-verify"),
    path("logout/", auth_apis.AuthLogoutApi.as_view(), name="api-logout"),
]
