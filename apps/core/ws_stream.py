"""The WebSocket API: one consumer, many topics.

ws/v1/stream/ takes {"type": "subscribe", "topic": "market"|"portfolio"|"bot", ...params}
and {"type": "unsubscribe", "subscription": "<key>"}. The per-page routes
(ws/market/<exchange>/<symbol>/, ws/portfolio/<id>/, ws/bots/<id>/) use the same class
with ``auto_topic`` so the URL kwargs become the one subscription.

Each app defines its topic in its consumers.py; the web process's composition root
(``config/routing.py``) hands the table of topics to every route's consumer. A topic
resolver checks the parameters and the user's right to them (404-like "not_found" for
objects that are not theirs, so existence is not revealed) and names the channel-layer group."""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.core.ws_auth import AuthenticatedJsonConsumer


class TopicError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Subscription:
    key: str  # canonical and unique per connection, e.g. "market:binance:BTCUSDT:1m"
    topic: str
    group: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    name: str
    event_prefix: str  # channel-layer event types this topic forwards, e.g. "market."
    resolve: Callable[[Any, dict[str, Any]], Awaitable[Subscription]]
    matches: Callable[[Subscription, dict[str, Any]], bool] = lambda sub, event: True
    # Trims an event's data to what the subscription asked for (e.g. one timeframe).
    shape: Callable[[Subscription, dict[str, Any]], dict[str, Any]] = lambda sub, data: data


def topic_table(*topics: Topic) -> dict[str, Topic]:
    names = [t.name for t in topics]
    if len(set(names)) != len(names):
        raise ValueError(f"two topics share a name: {names}")
    return {t.name: t for t in topics}


_FRAMES: OrderedDict[tuple[str, str, int], str] = OrderedDict()
_FRAMES_MAX = 1024


def frame_text(kind: str, key: str, payload: dict[str, Any], stamp: int | None) -> str:
    """The JSON text of one frame. A stamped push (market updates carry ``pushed_ms``) reaches
    every subscriber of the same key with the same content: encode it once per process, not
    once per connection (bench/ws_fanout.py)."""
    if stamp is None:
        return json.dumps({"type": kind, "subscription": key, "data": payload})
    cache_key = (kind, key, stamp)
    text = _FRAMES.get(cache_key)
    if text is None:
        text = _FRAMES[cache_key] = json.dumps({"type": kind, "subscription": key, "data": payload})
        if len(_FRAMES) > _FRAMES_MAX:
            _FRAMES.popitem(last=False)
    return text


class StreamConsumer(AuthenticatedJsonConsumer):
    auto_topic: str | None = None
    topics: Mapping[str, Topic]

    def __init__(self, *args: Any, topics: Mapping[str, Topic], auto_topic: str | None = None, **kwargs: Any):
        # Channels passes as_asgi() kwargs to __init__ but does not store them.
        super().__init__(*args, **kwargs)
        self.topics = topics
        self.auto_topic = auto_topic

    async def on_authenticated(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        if self.auto_topic:
            params = dict(self.scope.get("url_route", {}).get("kwargs", {}))
            await self._subscribe({"topic": self.auto_topic, **params}, close_on_error=True)

    async def on_disconnected(self) -> None:
        for key in list(getattr(self, "subscriptions", {})):
            await self._unsubscribe_key(key)

    async def handle_message(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        if kind == "subscribe":
            await self._subscribe(content)
        elif kind == "unsubscribe":
            await self._unsubscribe(content)
        elif kind == "subscriptions":
            await self.send_json({"type": "subscriptions", "subscriptions": sorted(self.subscriptions)})
        else:
            await self.send_error(code="unknown_type", message=f"Unknown message type {kind!r}.")

    async def _subscribe(self, content: dict[str, Any], *, close_on_error: bool = False) -> None:
        topic = self.topics.get(content.get("topic"))  # type: ignore[arg-type]
        try:
            if topic is None:
                raise TopicError("unknown_topic", f"topic must be one of: {', '.join(sorted(self.topics))}.")
            if len(self.subscriptions) >= settings.WS_MAX_SUBSCRIPTIONS:
                raise TopicError("too_many_subscriptions", "Subscription limit reached for this connection.")
            subscription = await topic.resolve(self.user, content)
        except TopicError as exc:
            await self.send_json(
                {"type": "error", "id": content.get("id"), "error": {"code": exc.code, "message": exc.message}}
            )
            if close_on_error:
                await self.close(code=4404 if exc.code == "not_found" else 4400)
            return
        if subscription.key not in self.subscriptions:
            if not any(s.group == subscription.group for s in self.subscriptions.values()):
                await self.channel_layer.group_add(subscription.group, self.channel_name)
            self.subscriptions[subscription.key] = subscription
        await self.send_json({"type": "subscribed", "id": content.get("id"), "subscription": subscription.key})

    async def _unsubscribe(self, content: dict[str, Any]) -> None:
        key = content.get("subscription")
        if not isinstance(key, str) or key not in self.subscriptions:
            await self.send_error(code="not_subscribed", message="No such subscription on this connection.")
            return
        await self._unsubscribe_key(key)
        await self.send_json({"type": "unsubscribed", "id": content.get("id"), "subscription": key})

    async def _unsubscribe_key(self, key: str) -> None:
        subscription = self.subscriptions.pop(key)
        if not any(s.group == subscription.group for s in self.subscriptions.values()):
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(subscription.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channel-layer events (market.update, portfolio.update, bot.*) are forwarded
        # generically; websocket.* messages go through the normal handlers.
        kind = message.get("type", "")
        if kind.startswith("websocket."):
            await super().dispatch(message)
            return
        await self._forward(kind, message)

    async def _forward(self, kind: str, message: dict[str, Any]) -> None:
        data = {k: v for k, v in message.items() if k != "type"}
        for subscription in list(getattr(self, "subscriptions", {}).values()):
            topic = self.topics[subscription.topic]
            if kind.startswith(topic.event_prefix) and topic.matches(subscription, message):
                payload = topic.shape(subscription, data)
                await self.send(text_data=frame_text(kind, subscription.key, payload, message.get("pushed_ms")))
