from __future__ import annotations

from django.urls import path

from apps.safety.apis import SafetyAuditEventListApi, SafetyStatusApi

urlpatterns = [
    path("safety/", SafetyStatusApi.as_view(), name="api-safety-status"),
    path("safety/audit-events/", SafetyAuditEventListApi.as_view(), name="api-safety-audit-events"),
]
