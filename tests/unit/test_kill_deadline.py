"""A service whose container is being killed exits after a grace period, even if the kill hangs."""

from __future__ import annotations

import pytest

from services.common.deadline import EXIT_KILL_HUNG, being_killed_since, guard

pytestmark = pytest.mark.unit


class Container:
    def __init__(self, dying_from: float | None = None) -> None:
        self.dying_from = dying_from
        self.now = 0.0

    @property
    def _being_killed(self) -> bool:
        return self.dying_from is not None and self.now >= self.dying_from


def run_guard(container: Container, grace: float, limit: float = 100.0) -> tuple[list[int], float]:
    exits: list[int] = []
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds
        container.now = clock["t"]
        if clock["t"] > limit:
            raise TimeoutError  # the guard would have slept forever: nothing was dying

    try:
        guard(lambda: [container], grace=grace, poll=1.0, sleep=sleep, clock=lambda: clock["t"], exit_=exits.append)
    except TimeoutError:
        pass
    return exits, clock["t"]


def test_a_hung_kill_ends_the_process_after_the_grace_period():
    exits, at = run_guard(Container(dying_from=5.0), grace=20.0)
    assert (exits, at) == ([EXIT_KILL_HUNG], 25.0)


def test_a_healthy_service_is_left_alone():
    exits, _ = run_guard(Container(dying_from=None), grace=20.0, limit=60.0)
    assert exits == []


def test_the_grace_period_counts_from_the_first_moment_of_dying():
    assert being_killed_since([Container()], None, 3.0) is None
    dying = Container(dying_from=0.0)
    assert being_killed_since([dying], None, 3.0) == 3.0
    assert being_killed_since([dying], 3.0, 9.0) == 3.0
