"""The local exchange simulator: Binance and KuCoin spot protocols on loopback ports.

from apps.market.simulator import ExchangeSimulator
sim = ExchangeSimulator(seed=42).start_in_thread()
...
sim.stop_thread()
"""

from __future__ import annotations

from .server import ExchangeSimulator
from .state import SimClock

__all__ = ["ExchangeSimulator", "SimClock"]
