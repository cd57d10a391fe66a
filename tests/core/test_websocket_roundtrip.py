"""A WebSocket round trip through the real ASGI stack and each channel layer."""

from __future__ import annotations

import uuid

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from config.asgi import application

ORIGIN = [(b"origin", b"http://127.0.0.1")]


async def _ping_pong() -> None:
    communicator = WebsocketCommunicator(application, "/ws/heartbeat/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping", "id": 7})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "id": 7}
    await communicator.send_json_to({"type": "nonsense"})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_frame"
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_round_trip_through_in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    await _ping_pong()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_round_trip_through_channels_redis(settings, redis_url):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": f"test-{uuid.uuid4().hex[:8]}"},
        }
    }
    channel_layers.backends.clear()
    try:
        await _ping_pong()
    finally:
        layer = channel_layers.backends.get("default")
        if layer is not None:
            await layer.flush()
        channel_layers.backends.clear()


async def test_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/heartbeat/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected
