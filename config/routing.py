"""All WebSocket routes, and the table of stream topics each route's consumer serves: the web
process's wiring of the apps' topics (each app defines its own in its consumers.py), handed
to the consumers explicitly instead of a registry filled on import."""

from __future__ import annotations

from typing import Any

from django.urls import path

from apps.bots.consumers import BOT_TOPIC
from apps.core import api_converters  # noqa: F401  (registers <id:...>)
from apps.core.consumers import HeartbeatConsumer
from apps.core.ws_stream import StreamConsumer, topic_table
from apps.market.consumers import MARKET_TOPIC
from apps.portfolio.consumers import PORTFOLIO_TOPIC

TOPICS = topic_table(MARKET_TOPIC, PORTFOLIO_TOPIC, BOT_TOPIC)


def _stream(auto_topic: str | None = None) -> Any:
    return StreamConsumer.as_asgi(topics=TOPICS, auto_topic=auto_topic)


websocket_urlpatterns = [
    path("ws/heartbeat/", HeartbeatConsumer.as_asgi()),
    # The WebSocket API: one connection, any of the topics.
    path("ws/v1/stream/", _stream()),
    # The pages' routes: the URL's kwargs are the one subscription of their topic.
    path("ws/market/<str:exchange>/<str:symbol>/", _stream("market")),
    path("ws/portfolio/<id:id>/", _stream("portfolio")),
    path("ws/bots/<id:id>/", _stream("bot")),
]
