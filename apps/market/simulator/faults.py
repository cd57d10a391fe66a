"""Fault injection: the things real venues do to clients, on demand."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from .symbols import BINANCE, EXCHANGES

if TYPE_CHECKING:
    from .state import SimState


class Faults:
    """Thread-safe: every action runs on the simulator's loop and returns once applied."""

    def __init__(self, sim: SimState) -> None:
        self.sim = sim

    def _hubs(self, exchange: str | None) -> list[Any]:
        names = EXCHANGES if exchange is None else (exchange,)
        return [self.sim.binance_hub if n == BINANCE else self.sim.kucoin_hub for n in names]

    def drop_connections(self, exchange: str | None = None, graceful: bool = False) -> None:
        """Close every WS connection: abruptly (network drop) or with a 1001 close frame."""

        def act() -> None:
            for hub in self._hubs(exchange):
                for conn in list(hub.conns):
                    if graceful:
                        asyncio.get_running_loop().create_task(conn.close())
                    else:
                        conn.abort()

        self.sim.call(act)

    def stall(self, exchange: str, seconds: float) -> None:
        """Stop sending data frames (control replies and pings continue) for ``seconds``."""
        until = time.monotonic() + seconds
        self.sim.call(lambda: [setattr(h, "stalled_until", until) for h in self._hubs(exchange)])

    def malformed_frame(self, exchange: str | None = None) -> None:
        self.sim.call(lambda: [h.broadcast_raw('{"e":"trade","E":17000,"s":') for h in self._hubs(exchange)])

    def rate_limit(self, exchange: str, status: int = 429, retry_after: int = 2, count: int = 1) -> None:
        """The next ``count`` REST calls answer ``status`` with Retry-After and the venue's error body."""
        self.sim.call(lambda: self.sim.forced_rate_limits[exchange].extend([(status, retry_after)] * count))

    def drop_depth_diffs(self, exchange: str, symbol: str, count: int = 1) -> None:
        """Lose the next ``count`` book diffs of ``symbol`` (a dropped frame): the book moves on
        without them, so the next diff's first id is past the client's book (a sequence gap)."""

        def act() -> None:
            key = (exchange, symbol)
            self.sim.dropped_diffs[key] = self.sim.dropped_diffs.get(key, 0) + count

        self.sim.call(act)

    def binance_server_shutdown(self, close_after: float = 0.5) -> None:
        """Send serverShutdown (raw and combined forms), then close the connections."""

        def act() -> None:
            now = self.sim.clock.now_ms()
            event = json.dumps({"e": "serverShutdown", "E": now})
            for conn in list(self.sim.binance_hub.conns):
                conn.push(f'{{"stream":"!serverShutdown","data":{event}}}' if conn.combined else event)
                asyncio.get_running_loop().call_later(close_after, lambda c=conn: asyncio.ensure_future(c.close()))

        self.sim.call(act)

    def kucoin_error(self, message: str, code: int = 500) -> None:
        def act() -> None:
            for conn in list(self.sim.kucoin_hub.conns):
                conn.push(json.dumps({"id": conn.connect_id, "type": "error", "code": code, "data": message}))

        self.sim.call(act)

    def apply(self, exchange: str, spec: dict[str, Any]) -> None:
        """The HTTP control endpoint's entry: {"action": ..., params}."""
        action = spec.get("action")
        target = spec.get("exchange", exchange)
        if action == "drop_connections":
            self.drop_connections(target, bool(spec.get("graceful", False)))
        elif action == "stall":
            self.stall(target, float(spec.get("seconds", 5)))
        elif action == "malformed_frame":
            self.malformed_frame(target)
        elif action == "rate_limit":
            self.rate_limit(
                target, int(spec.get("status", 429)), int(spec.get("retry_after", 2)), int(spec.get("count", 1))
            )
        elif action == "drop_depth_diffs":
            self.drop_depth_diffs(target, str(spec["symbol"]), int(spec.get("count", 1)))
        elif action == "server_shutdown":
            self.binance_server_shutdown(float(spec.get("close_after", 0.5)))
        elif action == "kucoin_error":
            self.kucoin_error(str(spec.get("message", "internal error")), int(spec.get("code", 500)))
        else:
            raise ValueError(f"unknown fault action {action!r}")
