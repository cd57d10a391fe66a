from __future__ import annotations

from django.urls import path

from apps.core.consumers import HeartbeatConsumer

websocket_urlpatterns = [path("ws/heartbeat/", HeartbeatConsumer.as_asgi())]
