"""SLA clocks, pure: due times, pause while waiting on the resident, resume, breach detection.

Hours are wall-clock hours (not working hours): a case submitted on Friday evening with a
48-hour resolution time is due on Sunday evening. Every function takes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: Stages whose clock runs until the case is accepted (or work starts).
AWAITING_RESPONSE = frozenset({"submitted", "reopened"})
#: States whose resolution clock runs (waiting_resident pauses it; merged hands it to an incident).
RESOLUTION_RUNNING = frozenset({"submitted", "accepted", "assigned", "in_progress", "reopened"})


@dataclass(frozen=True)
class Policy:
    response_hours: float
    resolution_hours: float


@dataclass(frozen=True)
class Clock:
    """What the SLA needs to know about one case."""

    status: str
    started_at: datetime
    paused_seconds: int
    paused_at: datetime | None
    response_due_at: datetime
    resolution_due_at: datetime
    response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None


def due_times(started_at: datetime, policy: Policy, paused_seconds: int = 0) -> tuple[datetime, datetime]:
    """(respond by, resolve by): from the start, pushed back by the time spent paused."""
    paused = timedelta(seconds=paused_seconds)
    return (
        started_at + timedelta(hours=policy.response_hours) + paused,
        started_at + timedelta(hours=policy.resolution_hours) + paused,
    )


def paused_seconds_after_resume(paused_seconds: int, paused_at: datetime | None, now: datetime) -> int:
    """The total pause once the resident has answered: the wait just ended is added."""
    if paused_at is None:
        return paused_seconds
    return paused_seconds + max(int((now - paused_at).total_seconds()), 0)


def breaches(clock: Clock, now: datetime) -> list[str]:
    """The stages past due at ``now`` and not yet reported (each stage is reported once)."""
    found = []
    if clock.status in AWAITING_RESPONSE and clock.response_breached_at is None and now > clock.response_due_at:
        found.append("response")
    if clock.status in RESOLUTION_RUNNING and clock.resolution_breached_at is None and now > clock.resolution_due_at:
        found.append("resolution")
    return found


def overdue(clock: Clock, now: datetime) -> bool:
    """Past a due time that still matters (a paused clock is not overdue)."""
    return (clock.status in AWAITING_RESPONSE and now > clock.response_due_at) or (
        clock.status in RESOLUTION_RUNNING and now > clock.resolution_due_at
    )


def running(clock: Clock) -> tuple[str | None, datetime | None]:
    """The clock that runs now and when it runs out: ("response", due), ("resolution", due), or
    (None, None) when none runs (paused while waiting on the resident, or the case is done).

    What the workbench's SLA badge shows (time left, red when past); the response clock comes
    first, as it runs out first.
    """
    if clock.status in AWAITING_RESPONSE:
        return "response", clock.response_due_at
    if clock.status in RESOLUTION_RUNNING:
        return "resolution", clock.resolution_due_at
    return None, None
