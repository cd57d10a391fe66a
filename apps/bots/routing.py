from __future__ import annotations

from django.urls import path

from apps.bots import consumers  # noqa: F401  (registers the "bot" topic)
from apps.core import api_converters  # noqa: F401  (registers <id:...>)
from apps.core.ws_stream import StreamConsumer

websocket_urlpatterns = [
    path("ws/bots/<id:id>/", StreamConsumer.as_asgi(auto_topic="bot")),
]
