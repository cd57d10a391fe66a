"""Market fixtures for everyone: the exchange simulator, started on its own loop thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.market.simulator import ExchangeSimulator


@pytest.fixture
def exchange_sim_factory() -> Iterator[Callable[..., ExchangeSimulator]]:
    """Start simulators with any ExchangeSimulator kwargs; all are stopped after the test."""
    started: list[ExchangeSimulator] = []

    def factory(**kwargs: Any) -> ExchangeSimulator:
        sim = ExchangeSimulator(**kwargs).start_in_thread()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop_thread()


@pytest.fixture
def exchange_sim(exchange_sim_factory: Callable[..., ExchangeSimulator]) -> ExchangeSimulator:
    """A seeded simulator (seed 42, wall clock, default symbols, 20 trades/s per market)."""
    return exchange_sim_factory(seed=42)
