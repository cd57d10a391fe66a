"""Pure outage detection for the dependencies a process needs (Postgres, Redis, the broker).

No ORM, no I/O, no clock: the caller feeds one observation per dependency and check, with
its time, and gets back the transition, if any. A dependency is declared down only after
``fail_after`` consecutive failed checks (one refused connection during a restart is a
blip, not an outage) and recovered only after ``recover_after`` consecutive good ones, so
a flapping server yields one alert and one resolution, not one pair per flap.

The state lives in memory on purpose: the dependencies being watched are the places a
shared state would otherwise be kept (Redis for de-duplication, Postgres for the rows).
"""

from __future__ import annotations

from dataclasses import dataclass

FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True)
class OutageEvent:
    dependency: str
    state: str  # FIRING or RESOLVED
    since: float  # epoch seconds of the first failed check of this outage
    at: float  # epoch seconds of the check that made the transition
    failures: int  # failed checks seen in this outage so far
    detail: str = ""  # the probe's last error

    @property
    def dedup_key(self) -> str:
        base = f"dependency_down:{self.dependency}"
        return base if self.state == FIRING else f"{base}:resolved"

    @property
    def duration_seconds(self) -> float:
        return max(0.0, self.at - self.since)

    @property
    def title(self) -> str:
        if self.state == FIRING:
            checks = "check" if self.failures == 1 else "checks"
            return f"{self.dependency} down: {self.failures} failed {checks} in {self.duration_seconds:.0f}s"
        return f"Resolved: {self.dependency} back after {self.duration_seconds:.0f}s"


@dataclass
class DependencyState:
    failures: int = 0  # consecutive failed checks
    successes: int = 0  # consecutive good checks
    down: bool = False  # an alert fired and is not resolved yet
    since: float | None = None  # first failed check of the current (suspected) outage
    outage_failures: int = 0  # all failed checks since `since`
    detail: str = ""


class OutageTracker:
    """Per-dependency consecutive-failure counting; ``observe`` returns the transitions."""

    def __init__(self, *, fail_after: int, recover_after: int = 1) -> None:
        if fail_after < 1 or recover_after < 1:
            raise ValueError("fail_after and recover_after must be >= 1")
        self.fail_after = fail_after
        self.recover_after = recover_after
        self._states: dict[str, DependencyState] = {}

    def state(self, dependency: str) -> DependencyState:
        return self._states.setdefault(dependency, DependencyState())

    def down(self) -> list[str]:
        return sorted(name for name, state in self._states.items() if state.down)

    def observe(self, *, dependency: str, healthy: bool, at: float, detail: str = "") -> OutageEvent | None:
        state = self.state(dependency)
        if healthy:
            return self._success(dependency, state, at)
        return self._failure(dependency, state, at, detail)

    def _failure(self, dependency: str, state: DependencyState, at: float, detail: str) -> OutageEvent | None:
        if state.since is None:
            state.since, state.outage_failures = at, 0
        state.failures += 1
        state.outage_failures += 1
        state.successes = 0
        state.detail = detail
        if state.down or state.failures < self.fail_after:
            return None
        state.down = True
        return OutageEvent(dependency, FIRING, state.since, at, state.outage_failures, detail)

    def _success(self, dependency: str, state: DependencyState, at: float) -> OutageEvent | None:
        state.failures = 0
        state.successes += 1
        if not state.down:
            # Fewer than fail_after failures in a row: a blip, forgotten.
            state.since, state.outage_failures = None, 0
            return None
        if state.successes < self.recover_after:
            return None
        since = state.since if state.since is not None else at
        event = OutageEvent(dependency, RESOLVED, since, at, state.outage_failures, state.detail)
        state.down, state.since, state.outage_failures, state.detail = False, None, 0, ""
        return event
