"""The event handlers' retry rule (services.common.subscribe.next_step): permanent errors are
dead-lettered at once, other failures retried with backoff until DLQ_MAX_ATTEMPTS, and a database
outage retried without using up the message's attempts."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc

from services.common.subscribe import ATTEMPTS_HEADER, OUTAGES_HEADER, is_outage, next_step

pytestmark = pytest.mark.unit

DELAYS = (0.5, 1.0, 2.0)


def unreachable() -> sa_exc.InterfaceError:
    return sa_exc.InterfaceError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))


def test_a_handler_error_is_retried_with_backoff_then_dead_lettered() -> None:
    headers: dict = {}
    delays = []
    for _ in range(3):
        step = next_step(headers, RuntimeError("boom"), DELAYS, max_attempts=4)
        assert step.retry
        delays.append(step.delay)
        headers = step.headers
    assert delays == [0.5, 1.0, 2.0] and headers[ATTEMPTS_HEADER] == 3
    last = next_step(headers, RuntimeError("boom"), DELAYS, max_attempts=4)
    assert (last.retry, last.attempt) == (False, 4)


def test_a_permanent_error_is_dead_lettered_at_once() -> None:
    step = next_step({}, ValidationError({"case_id": ["missing"]}), DELAYS, max_attempts=4)
    assert (step.retry, step.attempt) == (False, 1)


@pytest.mark.parametrize(
    "error",
    [
        unreachable(),
        sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")),
        sa_exc.TimeoutError("QueuePool limit reached"),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True),
    ],
)
def test_a_database_outage_never_uses_up_the_attempts(error: Exception) -> None:
    """The harness's postgres-stop: 15 s down is longer than the whole retry chain (0.5+1+2 s);
    the events it held must all be handled once the database is back, none dead-lettered."""
    assert is_outage(error)
    headers = {ATTEMPTS_HEADER: 3}  # one attempt left when the database went away
    for n in range(1, 20):
        step = next_step(headers, error, DELAYS, max_attempts=4)
        assert step.retry and step.attempt == 3
        assert step.delay == DELAYS[min(n - 1, 2)]  # backs off like any retry
        headers = step.headers
    assert headers[OUTAGES_HEADER] == 19 and headers[ATTEMPTS_HEADER] == 3
    # Back to a real error: it still has exactly the one attempt it had.
    assert next_step(headers, RuntimeError("boom"), DELAYS, max_attempts=4).retry is False


def test_an_integrity_error_is_not_an_outage() -> None:
    """A constraint the data breaks is the message's problem, not the database's availability."""
    integrity = sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert not is_outage(integrity)
    assert next_step({ATTEMPTS_HEADER: 3}, integrity, DELAYS, max_attempts=4).retry is False


def test_each_step_says_its_attempt_and_a_dead_letter_keeps_the_headers() -> None:
    first = next_step({"h": "v"}, RuntimeError("boom"), DELAYS, max_attempts=4)
    assert (first.retry, first.delay, first.attempt) == (True, 0.5, 1)
    last = next_step({ATTEMPTS_HEADER: 3, "h": "v"}, RuntimeError("boom"), DELAYS, max_attempts=4)
    assert (last.retry, last.delay, last.headers, last.attempt) == (False, 0.0, {ATTEMPTS_HEADER: 3, "h": "v"}, 4)


def test_attempts_beyond_the_delays_wait_the_longest_delay() -> None:
    step = next_step({ATTEMPTS_HEADER: 5}, RuntimeError("boom"), DELAYS, max_attempts=10)
    assert (step.retry, step.delay, step.attempt) == (True, 2.0, 6)
