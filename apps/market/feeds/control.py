"""Non-market messages the parsers recognise (pure)."""

from __future__ import annotations

from dataclasses import dataclass


class MalformedMessage(ValueError):
    """A frame that is not a payload we understand. Counted and skipped, never fatal."""


@dataclass(frozen=True, slots=True)
class FeedControl:
    """A protocol event that changes the connection, not the market.

    kind: "shutdown" (Binance serverShutdown), "error" (exchange or library error message),
    "closed" (python-binance reports the socket closed and is reconnecting).
    """

    kind: str
    detail: str = ""
