from __future__ import annotations

from django.urls import path

from apps.ops import views

urlpatterns = [
    path("health/live", views.health_live, name="health-live"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("metrics", views.metrics, name="prometheus-django-metrics"),
]
