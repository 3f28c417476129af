"""Weekly availability slots: stored as JSON, read by the assignment rule as :class:`AvailabilitySlot`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from services.volunteers.assignment import AvailabilitySlot


def clock(text: str) -> time:
    """ "HH:MM" (already validated by the schema) as a naive wall-clock time."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def slots(stored: Iterable[dict] | None) -> tuple[AvailabilitySlot, ...]:
    """The volunteer's stored slots for :func:`services.volunteers.assignment.is_available`."""
    return tuple(
        AvailabilitySlot(weekday=slot["weekday"], start=clock(slot["start"]), end=clock(slot["end"]))
        for slot in stored or ()
    )


def normalised(stored: Iterable[dict]) -> list[dict]:
    """Slots sorted by day and time, duplicates dropped, so equal schedules store equally."""
    unique = {(s["weekday"], s["start"], s["end"]) for s in stored}
    return [{"weekday": d, "start": a, "end": b} for d, a, b in sorted(unique)]
