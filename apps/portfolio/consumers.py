"""WebSocket portfolio updates: the "portfolio" topic of the stream consumer (own portfolios only)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.core.ws_stream import Subscription, Topic, TopicError
from apps.portfolio.models import Portfolio
from apps.portfolio.realtime import portfolio_group


def object_id(params: dict[str, Any], *names: str) -> int:
    for name in names:
        value = params.get(name)
        if value is not None:
            try:
                number = int(value)
            except (TypeError, ValueError):
                break
            if 0 < number < 2**62:
                return number
            break
    raise TopicError("invalid", f"{names[0]} must be a positive integer.")


@database_sync_to_async
def _owns_portfolio(user: Any, portfolio_id: int) -> bool:
    return Portfolio.objects.filter(pk=portfolio_id, owner=user).exists()


async def portfolio_topic_resolve(user: Any, params: dict[str, Any]) -> Subscription:
    portfolio_id = object_id(params, "id", "portfolio_id")
    if not await _owns_portfolio(user, portfolio_id):
        # Same answer for "missing" and "someone else's": existence is not revealed.
        raise TopicError("not_found", "No such portfolio.")
    return Subscription(
        key=f"portfolio:{portfolio_id}",
        topic="portfolio",
        group=portfolio_group(portfolio_id),
        params={"id": portfolio_id},
    )


def portfolio_event_matches(subscription: Subscription, event: dict[str, Any]) -> bool:
    event_id = event.get("portfolio_id", event.get("portfolio"))
    return event_id is None or str(event_id) == str(subscription.params["id"])


PORTFOLIO_TOPIC = Topic(
    name="portfolio", event_prefix="portfolio.", resolve=portfolio_topic_resolve, matches=portfolio_event_matches
)
