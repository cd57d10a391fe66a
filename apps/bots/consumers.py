"""WebSocket bot events: the "bot" topic of the stream consumer (own bots only)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.bots.models import Bot
from apps.core.ws_stream import Subscription, Topic, TopicError
from apps.portfolio.consumers import object_id


def bot_group(bot_id: int) -> str:
    return f"bot.{bot_id}"


@database_sync_to_async
def _owns_bot(user: Any, bot_id: int) -> bool:
    return Bot.objects.filter(pk=bot_id, owner=user).exists()


async def bot_topic_resolve(user: Any, params: dict[str, Any]) -> Subscription:
    bot_id = object_id(params, "id", "bot_id")
    if not await _owns_bot(user, bot_id):
        raise TopicError("not_found", "No such bot.")
    return Subscription(key=f"bot:{bot_id}", topic="bot", group=bot_group(bot_id), params={"id": bot_id})


def bot_event_matches(subscription: Subscription, event: dict[str, Any]) -> bool:
    event_id = event.get("bot_id", event.get("bot"))
    return event_id is None or str(event_id) == str(subscription.params["id"])


BOT_TOPIC = Topic(name="bot", event_prefix="bot.", resolve=bot_topic_resolve, matches=bot_event_matches)
