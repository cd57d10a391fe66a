from __future__ import annotations

import pytest

from apps.ops.outages import FIRING, RESOLVED, OutageTracker


def _run(tracker: OutageTracker, checks: str, *, dependency: str = "postgres", start: float = 1000.0) -> list:
    """Feed one check per character ("x" failed, "." good), 10 s apart; the events."""
    events = []
    for i, check in enumerate(checks):
        event = tracker.observe(dependency=dependency, healthy=check == ".", at=start + 10 * i, detail=f"check {i}")
        if event is not None:
            events.append(event)
    return events


def test_a_blip_shorter_than_the_threshold_is_not_an_outage():
    tracker = OutageTracker(fail_after=3, recover_after=2)
    assert _run(tracker, "xx.xx.x..") == []
    assert tracker.down() == []


def test_fires_once_at_the_nth_consecutive_failure_and_not_again_while_down():
    tracker = OutageTracker(fail_after=3, recover_after=2)
    events = _run(tracker, "..xxxxxxx")
    assert [(e.state, e.at, e.since, e.failures) for e in events] == [(FIRING, 1040.0, 1020.0, 3)]
    assert events[0].detail == "check 4"
    assert events[0].dedup_key == "dependency_down:postgres"
    assert events[0].title == "postgres down: 3 failed checks in 20s"
    assert tracker.down() == ["postgres"]


def test_resolves_after_m_good_checks_in_a_row_with_the_outage_length():
    tracker = OutageTracker(fail_after=2, recover_after=2)
    # down at the 2nd failure; one good check is not enough, the failure after it keeps
    # the outage open; two good ones in a row resolve it.
    events = _run(tracker, "xx.x..")
    assert [e.state for e in events] == [FIRING, RESOLVED]
    resolved = events[1]
    assert (resolved.since, resolved.at, resolved.failures) == (1000.0, 1050.0, 3)
    assert resolved.duration_seconds == 50.0
    assert resolved.dedup_key == "dependency_down:postgres:resolved"
    assert resolved.title == "Resolved: postgres back after 50s"
    assert tracker.down() == []


def test_a_new_outage_after_a_resolution_fires_again_from_its_own_start():
    tracker = OutageTracker(fail_after=2, recover_after=1)
    events = _run(tracker, "xx.x.xx.")
    assert [(e.state, e.since) for e in events] == [
        (FIRING, 1000.0),
        (RESOLVED, 1000.0),
        (FIRING, 1050.0),
        (RESOLVED, 1050.0),
    ]


def test_dependencies_are_tracked_separately():
    tracker = OutageTracker(fail_after=2)
    assert _run(tracker, "x", dependency="redis") == []
    assert _run(tracker, "xx", dependency="broker") != []
    assert tracker.state("redis").failures == 1
    assert tracker.down() == ["broker"]


@pytest.mark.parametrize(("fail_after", "recover_after"), [(0, 1), (1, 0)])
def test_thresholds_below_one_are_refused(fail_after, recover_after):
    with pytest.raises(ValueError):
        OutageTracker(fail_after=fail_after, recover_after=recover_after)
