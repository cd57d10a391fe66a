from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from apps.market.simulator.server import ExchangeSimulator
from apps.safety.metrics import SAFETY_VIOLATIONS
from apps.safety.models import AuditEvent


def violations_count(layer: str) -> float:
    return SAFETY_VIOLATIONS.labels(layer=layer)._value.get()


def off_loop(fn):
    """Run ``fn`` in a thread when called from an async test (Django forbids the ORM there)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


@pytest.fixture
def refused_events():
    """A callable returning the refused audit events written since the test started."""
    start = off_loop(lambda: AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0)

    def events(**filters):
        return off_loop(
            lambda: list(AuditEvent.objects.filter(id__gt=start, result=AuditEvent.Result.REFUSED, **filters))
        )

    return events


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One simulator per module, with a tripwire log of its own: these tests hit tripwires
    on purpose (the control tests) or count them, and must not touch the suite's log."""
    simulator = ExchangeSimulator(
        seed=5, symbols=["BTCUSDT"], tripwire_log=tmp_path_factory.mktemp("sim") / "tripwires.jsonl"
    )
    simulator.start_in_thread()
    yield simulator
    simulator.stop_thread()


@pytest.fixture
def tripwires(sim):
    """Hits recorded during this test."""
    start = len(sim.tripwire_hits)
    return lambda: sim.tripwire_hits[start:]
