"""WebSocket market streams: the "market" topic of the stream consumer (apps/core/ws_stream.py)."""

from __future__ import annotations

import re
from typing import Any

from apps.core.ws_stream import Subscription, Topic, TopicError
from apps.market.models import Exchange, Timeframe
from apps.market.realtime import MESSAGE_TYPE, group_name

_SYMBOL = re.compile(r"^[A-Z0-9]{2,32}$")


async def market_topic_resolve(user: Any, params: dict[str, Any]) -> Subscription:
    exchange = params.get("exchange")
    symbol = str(params.get("symbol") or "").upper()
    timeframe = params.get("timeframe")
    if exchange not in Exchange.values:
        raise TopicError("invalid", f"exchange must be one of: {', '.join(Exchange.values)}.")
    if not _SYMBOL.match(symbol):
        raise TopicError("invalid", "symbol must look like BTCUSDT.")
    if timeframe is not None and timeframe not in Timeframe.values:
        raise TopicError("invalid", f"timeframe must be one of: {', '.join(Timeframe.values)}.")
    key = f"market:{exchange}:{symbol}" + (f":{timeframe}" if timeframe else "")
    return Subscription(
        key=key,
        topic="market",
        group=group_name(exchange, symbol),
        params={"exchange": exchange, "symbol": symbol, "timeframe": timeframe},
    )


def market_event_matches(subscription: Subscription, event: dict[str, Any]) -> bool:
    return (
        event.get("exchange") == subscription.params["exchange"]
        and event.get("symbol") == subscription.params["symbol"]
    )


def market_event_shape(subscription: Subscription, data: dict[str, Any]) -> dict[str, Any]:
    timeframe = subscription.params["timeframe"]
    if timeframe is None:
        return data
    shaped = dict(data)
    shaped["candles"] = {k: v for k, v in (data.get("candles") or {}).items() if k == timeframe}
    shaped["closed"] = [c for c in data.get("closed") or [] if c.get("timeframe") == timeframe]
    shaped["indicators"] = {k: v for k, v in (data.get("indicators") or {}).items() if k == timeframe}
    return shaped


MARKET_TOPIC = Topic(
    name="market",
    event_prefix=MESSAGE_TYPE,
    resolve=market_topic_resolve,
    matches=market_event_matches,
    shape=market_event_shape,
)
