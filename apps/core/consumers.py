"""A heartbeat WebSocket: proves the ASGI stack and channel layer end to end."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

HEARTBEAT_GROUP = "heartbeat"


class HeartbeatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(HEARTBEAT_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(HEARTBEAT_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_json(
                {"type": "error", "error": {"code": "bad_frame", "message": 'expected {"type": "ping"}'}}
            )
            return
        # Round trip through the channel layer, not a direct echo.
        await self.channel_layer.group_send(HEARTBEAT_GROUP, {"type": "heartbeat.pong", "id": content.get("id")})

    async def heartbeat_pong(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "pong", "id": event.get("id")})
