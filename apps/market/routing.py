from __future__ import annotations

from django.urls import path

from apps.core.ws_stream import StreamConsumer
from apps.market import consumers  # noqa: F401  (registers the "market" topic)

websocket_urlpatterns = [
    path("ws/market/<str:exchange>/<str:symbol>/", StreamConsumer.as_asgi(auto_topic="market")),
]
