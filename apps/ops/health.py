"""The readiness registry: named components, each with a probe, run one after another.

A probe returns a ``ProbeOutcome`` or raises; a raise is a ``down`` component with the
exception as its detail. Probes read their targets from settings at call time, so a test
(or an operator) pointing a setting at a dead port sees the component go down at once.
No ORM here: the probes live in ``apps.ops.probes``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
DOWN = "down"
STALE = "stale"
EMBEDDED = "embedded"  # the dependency runs in-process (embedded mode): nothing to reach
SKIPPED = "skipped"  # not applicable to this deployment (disabled or not installed)
HEALTHY_STATUSES = frozenset({OK, EMBEDDED, SKIPPED})


@dataclass(frozen=True)
class ProbeOutcome:
    status: str = OK
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentResult:
    name: str
    status: str
    critical: bool
    latency_ms: float
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.status in HEALTHY_STATUSES

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "latency_ms": self.latency_ms, "critical": self.critical}
        if self.detail:
            body["detail"] = self.detail
        if self.data:
            body.update(self.data)
        return body


@dataclass(frozen=True)
class Component:
    name: str
    probe: Callable[[], ProbeOutcome]
    critical: bool = True


@dataclass(frozen=True)
class HealthReport:
    results: tuple[ComponentResult, ...]

    @property
    def ready(self) -> bool:
        return all(r.healthy for r in self.results if r.critical)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ready else "fail",
            "components": {r.name: r.as_dict() for r in self.results},
        }


class HealthRegistry:
    """Ordered components by name; registering a name again replaces it."""

    def __init__(self) -> None:
        self._components: dict[str, Component] = {}

    def register(self, name: str, probe: Callable[[], ProbeOutcome], *, critical: bool = True) -> None:
        self._components[name] = Component(name=name, probe=probe, critical=critical)

    def unregister(self, name: str) -> None:
        self._components.pop(name, None)

    def names(self) -> list[str]:
        return list(self._components)

    def get(self, name: str) -> Component | None:
        return self._components.get(name)

    def run(self, names: list[str] | None = None) -> HealthReport:
        chosen = [self._components[n] for n in (names or self._components) if n in self._components]
        return HealthReport(results=tuple(component_run(c) for c in chosen))


def component_run(component: Component) -> ComponentResult:
    started = time.perf_counter()
    try:
        outcome = component.probe()
    except Exception as exc:  # any failure of a dependency is a "down", never a 500
        outcome = ProbeOutcome(status=DOWN, detail=f"{type(exc).__name__}: {exc}"[:300])
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ComponentResult(
        name=component.name,
        status=outcome.status,
        critical=component.critical,
        latency_ms=latency_ms,
        detail=outcome.detail,
        data=outcome.data,
    )


registry = HealthRegistry()
