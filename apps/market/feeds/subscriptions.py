"""How a feed's streams are spread over connections within the exchanges' limits (pure).

Binance: at most 1024 streams per connection, and the combined-stream URL carries them all
(its length has a limit too: [unknown] at Binance, 8190 bytes of request line at the simulator).
KuCoin: at most 300 topics per connection (one symbol of a multi-symbol topic is one topic),
100 per subscribe message, and 100 client messages per 10 s. The plans keep a safety margin
below each limit; a symbol's streams always share one connection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

NamesFor = Callable[[list[str]], list[str]]


@dataclasses.dataclass(frozen=True, slots=True)
class FeedLimits:
    """What the feeds plan within: the exchanges' documented limits times ``share``."""

    binance_streams: int = 1024
    binance_url_chars: int = 6000
    kucoin_topics: int = 300
    kucoin_topics_per_subscribe: int = 100
    kucoin_uplink: int = 100
    kucoin_uplink_window_s: float = 10.0
    share: float = 0.8

    def scaled(self, value: int) -> int:
        return max(1, int(value * self.share))


def group_symbols(symbols: list[str], names_for: NamesFor, fits: Callable[[list[str]], bool]) -> list[list[str]]:
    """Consecutive symbols in as few groups as ``fits`` allows (a group's names are
    ``names_for(group)``); a symbol that fits nowhere alone is an error, not a silent drop."""
    groups: list[list[str]] = []
    current: list[str] = []
    for symbol in symbols:
        if fits(names_for([*current, symbol])):
            current.append(symbol)
            continue
        if not current:
            raise ValueError(f"the streams of {symbol} alone exceed one connection's limits")
        groups.append(current)
        current = [symbol]
        if not fits(names_for(current)):
            raise ValueError(f"the streams of {symbol} alone exceed one connection's limits")
    if current:
        groups.append(current)
    return groups


def binance_plan(symbols: list[str], names_for: NamesFor, limits: FeedLimits) -> list[list[str]]:
    """One list of stream names per connection."""
    max_streams = limits.scaled(limits.binance_streams)

    def fits(names: list[str]) -> bool:
        return len(names) <= max_streams and len("/".join(names)) <= limits.binance_url_chars

    return [names_for(group) for group in group_symbols(symbols, names_for, fits)]


def topic_count(topic: str) -> int:
    """'/market/match:BTC-USDT,ETH-USDT' is two topics."""
    return len(topic.partition(":")[2].split(","))


def split_topic(topic: str, per_message: int) -> list[str]:
    prefix, _, rest = topic.partition(":")
    items = rest.split(",")
    return [f"{prefix}:{','.join(items[i : i + per_message])}" for i in range(0, len(items), per_message)]


def kucoin_plan(symbols: list[str], topics_for: NamesFor, limits: FeedLimits) -> list[list[str]]:
    """One list of subscribe topics per connection, each topic within the per-message limit."""
    max_topics = limits.scaled(limits.kucoin_topics)

    def fits(topics: list[str]) -> bool:
        return sum(topic_count(t) for t in topics) <= max_topics

    per_message = limits.kucoin_topics_per_subscribe
    return [
        [part for topic in topics_for(group) for part in split_topic(topic, per_message)]
        for group in group_symbols(symbols, topics_for, fits)
    ]
