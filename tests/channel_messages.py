"""Receiving channel-layer messages in tests."""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def channel_receive(channel: str, *, within_s: float = 30.0) -> dict:
    """The next message, polling: the in-memory layer's queues do not wake a receiver that
    waits on another thread's event loop, and after-commit pushes are sent from their own
    loop (apps.portfolio.services.pushes). A plain ``layer.receive`` that starts waiting
    before the push is sent waits forever."""
    layer = get_channel_layer()

    async def poll() -> dict:
        deadline = asyncio.get_running_loop().time() + within_s
        while asyncio.get_running_loop().time() < deadline:
            try:
                return await asyncio.wait_for(layer.receive(channel), 0.025)
            except TimeoutError:
                continue
        raise AssertionError(f"no message arrived within {within_s} s")

    return async_to_sync(poll)()
