"""The embedded (in-memory) channel layer, tuned for fan-out.

Channels' InMemoryChannelLayer deep-copies a group message once per member and starts a
task per member. A market push goes to every subscriber of a symbol, so with hundreds of
WebSocket clients that copying dominated the web process (bench/ws_fanout.py, profiled in
docs/PERFORMANCE.md). Here the message is copied once per group_send and the same copy is
queued for every member: consumers only read the events they receive (apps/core/ws_stream.py
forwards them), so sharing one copy is safe. The parent also sweeps every channel and group
membership for expired entries on each receive and send (O(connections) per message, so
O(connections^2) per push round); here that sweep runs at most once a second, which the 60 s
message expiry and 1-day group expiry cannot notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from copy import deepcopy
from typing import Any

from channels.layers import InMemoryChannelLayer


class FanoutInMemoryChannelLayer(InMemoryChannelLayer):
    clean_every_s = 1.0
    _cleaned_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._cleaned_at < self.clean_every_s:
            return
        self._cleaned_at = now
        super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if not isinstance(message, dict):
            raise TypeError("Message is not a dict")
        self.require_valid_group_name(group)
        self._clean_expired()
        members = list(self.groups.get(group, {}))
        if not members:
            return
        shared = deepcopy(message)  # once: the sender may reuse its dict
        expires = time.time() + self.expiry
        for channel in members:
            queue = self.channels.setdefault(channel, asyncio.Queue(maxsize=self.get_capacity(channel)))
            # As the parent: a full member misses this message, the others still get it.
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait((expires, shared))
