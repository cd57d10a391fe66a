from __future__ import annotations

from django.urls import path

from apps.core.consumers import HeartbeatConsumer
from apps.core.ws_stream import StreamConsumer

websocket_urlpatterns = [
    path("ws/heartbeat/", HeartbeatConsumer.as_asgi()),
    # The WebSocket API: topics are registered by the apps' consumers modules (config/routing.py).
    path("ws/v1/stream/", StreamConsumer.as_asgi()),
]
