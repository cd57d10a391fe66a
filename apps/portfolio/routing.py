from __future__ import annotations

from django.urls import path

from apps.core import api_converters  # noqa: F401  (registers <id:...>)
from apps.core.ws_stream import StreamConsumer
from apps.portfolio import consumers  # noqa: F401  (registers the "portfolio" topic)

websocket_urlpatterns = [
    path("ws/portfolio/<id:id>/", StreamConsumer.as_asgi(auto_topic="portfolio")),
]
