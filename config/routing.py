"""All WebSocket routes: each app contributes its own `websocket_urlpatterns`."""

from __future__ import annotations

from apps.bots.routing import websocket_urlpatterns as bots_ws
from apps.core.routing import websocket_urlpatterns as core_ws
from apps.market.routing import websocket_urlpatterns as market_ws
from apps.portfolio.routing import websocket_urlpatterns as portfolio_ws

websocket_urlpatterns = [*core_ws, *market_ws, *portfolio_ws, *bots_ws]
