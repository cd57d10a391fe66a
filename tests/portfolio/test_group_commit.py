"""Group commit (apps.portfolio.group_commit): callers share batches, each keeps its own
outcome, lanes and batch size are bounded, and nobody is left waiting."""

from __future__ import annotations

import threading
import time

import pytest

from apps.portfolio.group_commit import GroupCommit, Ticket


class Recorder:
    """A run_batch that doubles each payload, records batch sizes and concurrent batches,
    and waits a moment (like a database round trip) so that callers pile up."""

    def __init__(self, *, pause: float = 0.002, fail_odd: bool = False, explode_on: int | None = None) -> None:
        self.sizes: list[int] = []
        self.running = 0
        self.most_running = 0
        self.pause = pause
        self.fail_odd = fail_odd
        self.explode_on = explode_on
        self._lock = threading.Lock()

    def __call__(self, batch: list[Ticket[int]]) -> None:
        with self._lock:
            self.sizes.append(len(batch))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(self.pause)
            if self.explode_on is not None and any(t.payload == self.explode_on for t in batch):
                raise RuntimeError("boom")
            for ticket in batch:
                if self.fail_odd and ticket.payload % 2:
                    ticket.error = ValueError(ticket.payload)
                else:
                    ticket.result = ticket.payload * 2
        finally:
            with self._lock:
                self.running -= 1


def submit_from_threads(group: GroupCommit[int], payloads: list[int]) -> dict[int, object]:
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(len(payloads))

    def caller(payload: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[payload] = group.submit(payload)
        except Exception as error:
            outcomes[payload] = error

    threads = [threading.Thread(target=caller, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a caller was left waiting"
    assert group.lanes_in_use == 0, "a lane was never given back"
    return outcomes


def test_a_lone_caller_runs_a_batch_of_one():
    recorder = Recorder(pause=0)
    group = GroupCommit(run_batch=recorder, max_batch=8, lanes=2)
    assert [group.submit(n) for n in range(3)] == [0, 2, 4]
    assert recorder.sizes == [1, 1, 1]


def test_concurrent_callers_share_batches_and_each_gets_its_own_result():
    recorder = Recorder()
    group = GroupCommit(run_batch=recorder, max_batch=16, lanes=2)
    outcomes = submit_from_threads(group, list(range(64)))
    assert outcomes == {n: n * 2 for n in range(64)}
    assert sum(recorder.sizes) == 64 and group.requests == 64
    assert len(recorder.sizes) < 64, "no two callers ever shared a batch"
    assert max(recorder.sizes) <= 16
    assert recorder.most_running <= 2


def test_one_lane_never_runs_two_batches_at_once():
    recorder = Recorder()
    group = GroupCommit(run_batch=recorder, max_batch=4, lanes=1)
    outcomes = submit_from_threads(group, list(range(30)))
    assert outcomes == {n: n * 2 for n in range(30)}
    assert recorder.most_running == 1 and max(recorder.sizes) <= 4


def test_a_refused_request_fails_only_its_own_caller():
    group = GroupCommit(run_batch=Recorder(fail_odd=True), max_batch=32, lanes=1)
    outcomes = submit_from_threads(group, list(range(20)))
    for n, outcome in outcomes.items():
        if n % 2:
            assert isinstance(outcome, ValueError) and outcome.args == (n,)
        else:
            assert outcome == n * 2


def test_a_failing_batch_fails_its_callers_and_the_group_keeps_going():
    recorder = Recorder(pause=0, explode_on=3)
    group = GroupCommit(run_batch=recorder, max_batch=8, lanes=1)
    with pytest.raises(RuntimeError, match="boom"):
        group.submit(3)
    # The lane was given back: later callers are served.
    assert submit_from_threads(group, list(range(10, 20))) == {n: n * 2 for n in range(10, 20)}


def test_leadership_is_handed_on_when_batches_are_small():
    # One request per batch: every caller's request is run by whoever leads at the time.
    recorder = Recorder(pause=0.001)
    group = GroupCommit(run_batch=recorder, max_batch=1, lanes=2)
    assert submit_from_threads(group, list(range(25))) == {n: n * 2 for n in range(25)}
    assert recorder.sizes == [1] * 25


def test_two_leaders_stepping_down_at_once_hand_their_lanes_to_two_waiters():
    group = GroupCommit(run_batch=Recorder(), max_batch=8, lanes=2)
    first, second, third = (Ticket(n, group._lock) for n in range(3))
    group._waiting.extend([first, second, third])
    group._leaders = 2
    group._step_down()
    group._step_down()  # before the first successor woke up and took its requests
    assert (first.promoted, second.promoted, third.promoted) == (True, True, False)
    assert group.lanes_in_use == 2


def test_callers_that_keep_submitting_keep_every_lane_busy():
    # Closed loop, as worker threads placing order after order: once a lane is lost the
    # group runs one batch at a time for good, which this would show as most_running 1 late on.
    recorder = Recorder(pause=0.002)
    group = GroupCommit(run_batch=recorder, max_batch=4, lanes=2)
    late_most_running = []

    def caller(number: int) -> None:
        for round_number in range(40):
            assert group.submit(number * 1000 + round_number) == (number * 1000 + round_number) * 2
            if round_number == 20:
                recorder.most_running = 0
        late_most_running.append(recorder.most_running)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert max(late_most_running) == 2 and group.lanes_in_use == 0


@pytest.mark.parametrize(("max_batch", "lanes"), [(0, 1), (1, 0)])
def test_bounds_must_be_positive(max_batch, lanes):
    with pytest.raises(ValueError):
        GroupCommit(run_batch=Recorder(), max_batch=max_batch, lanes=lanes)
