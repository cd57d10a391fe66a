from __future__ import annotations

from django.urls import path

from apps.core import api_converters  # noqa: F401  (registers <id:...>)
from apps.ops import apis

urlpatterns = [
    path("alerts/", apis.AlertNotificationListApi.as_view(), name="api-alerts"),
    path("alerts/preferences/", apis.AlertPreferenceApi.as_view(), name="api-alert-preferences"),
    path("alerts/preferences/secret/", apis.AlertPreferenceSecretApi.as_view(), name="api-alert-preferences-secret"),
    path("alerts/rules/", apis.AlertRuleListApi.as_view(), name="api-alert-rules"),
    path("alerts/rules/<id:pk>/", apis.AlertRuleDetailApi.as_view(), name="api-alert-rule"),
    path("alerts/<id:pk>/", apis.AlertNotificationDetailApi.as_view(), name="api-alert"),
]
