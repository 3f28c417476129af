"""Choosing the volunteer for a follow-up visit (回访) after a case closes.

Everything here is a pure function of its arguments: no database, no broker and
no clock reads. Callers load the candidates, pass ``now`` explicitly and persist
whatever is decided. Keeping the rule pure is what lets it be tested exactly and
replayed when residents or staff ask "why was this person sent?".

The rule, in order:

* eligibility — active, serves the estate, has the required skill, is not
  excluded (the case handler, anyone who declined this visit, the volunteer it
  was taken from when overdue), and has a weekly slot that falls inside
  ``[now, now + window)`` in Asia/Shanghai local time;
* ordering — fewest open visits, then fewest visits in the last 30 days, then
  longest since the last visit (never visited first), then ``volunteer_id`` so
  the outcome never depends on input order;
* when nobody is eligible the answer is ``None`` and the visit is left for
  staff rather than forced onto someone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from services.common.fields import SHANGHAI

__all__ = [
    "DEFAULT_SKILL",
    "DEFAULT_WINDOW",
    "MAX_OVERDUE_REASSIGNMENTS",
    "SHANGHAI",
    "AvailabilitySlot",
    "Candidate",
    "choose_visitor",
    "is_available",
    "next_after_decline",
    "next_after_overdue",
    "reassignment_exclusions",
]

#: Volunteers declare availability in the local time they live by, not UTC (SHANGHAI, from common).

#: A follow-up visit should happen within a few days of closure to be useful.
DEFAULT_WINDOW = timedelta(days=3)

#: Skill tag a volunteer needs to be sent on a follow-up visit.
DEFAULT_SKILL = "visit"

#: An overdue visit is moved to someone else at most this many times; after
#: that a human decides, because repeated silent reassignment hides a problem.
MAX_OVERDUE_REASSIGNMENTS = 1


@dataclass(frozen=True)
class AvailabilitySlot:
    """A recurring weekly slot in Asia/Shanghai local time.

    ``weekday`` follows :meth:`datetime.weekday` (0=Monday … 6=Sunday). A slot
    whose ``end`` is earlier than its ``start`` runs past midnight into the
    next day (e.g. 22:00–01:00), which is how evening volunteers describe it.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        """Reject slots that could never match, so bad data fails loudly."""
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("slot times are Asia/Shanghai wall-clock times; pass naive times")
        if self.start == self.end:
            raise ValueError("slot start and end must differ")


@dataclass(frozen=True)
class Candidate:
    """A volunteer as seen by the assignment rule, loaded by the caller.

    ``availability`` empty means the volunteer declared no slots; that is
    treated as "always available" so that not filling in a form never silently
    removes someone from the pool.
    """

    volunteer_id: str
    active: bool
    estate_ids: frozenset[str]
    skills: frozenset[str]
    open_visits: int
    visits_last_30_days: int
    last_visit_at: datetime | None
    availability: tuple[AvailabilitySlot, ...] = ()

    def __post_init__(self) -> None:
        """Require an aware ``last_visit_at`` so ordering compares real instants."""
        if self.last_visit_at is not None and _is_naive(self.last_visit_at):
            raise ValueError("last_visit_at must be timezone-aware")


def _is_naive(moment: datetime) -> bool:
    return moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None


def _require_aware(now: datetime) -> None:
    # A naive ``now`` would be silently read as server-local time and shift
    # every slot by the server's offset; refuse it instead.
    if _is_naive(now):
        raise ValueError("now must be timezone-aware (UTC)")


def _slot_occurrences(slot: AvailabilitySlot, first: date, last: date) -> Iterable[tuple[datetime, datetime]]:
    """Yield the slot's concrete local intervals on dates ``first``..``last``."""
    day = first
    while day <= last:
        if day.weekday() == slot.weekday:
            start = datetime.combine(day, slot.start, tzinfo=SHANGHAI)
            end_day = day if slot.end > slot.start else day + timedelta(days=1)
            end = datetime.combine(end_day, slot.end, tzinfo=SHANGHAI)
            yield start, end
        day += timedelta(days=1)


def is_available(
    availability: tuple[AvailabilitySlot, ...],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> bool:
    """Whether any slot overlaps ``[now, now + window)`` in Shanghai local time.

    The window is converted to Asia/Shanghai before matching weekdays, because
    a slot on "Monday 07:00" means Monday in Shanghai even when it is still
    Sunday in UTC. An empty ``availability`` means no slots were declared and
    counts as available.
    """
    _require_aware(now)
    if window <= timedelta(0):
        raise ValueError("window must be positive")
    if not availability:
        return True
    window_start = now.astimezone(SHANGHAI)
    window_end = (now + window).astimezone(SHANGHAI)
    # Start one day early so an overnight slot begun yesterday is still seen.
    first = window_start.date() - timedelta(days=1)
    last = window_end.date()
    return any(
        occ_start < window_end and occ_end > window_start
        for slot in availability
        for occ_start, occ_end in _slot_occurrences(slot, first, last)
    )


def _rank(candidate: Candidate) -> tuple[int, int, int, float, str]:
    """Sort key: lowest is best.

    Never-visited volunteers (``None``) come before anyone with a visit; among
    the rest the oldest ``last_visit_at`` wins, spreading visits over people.
    """
    if candidate.last_visit_at is None:
        recency: tuple[int, float] = (0, 0.0)
    else:
        recency = (1, candidate.last_visit_at.timestamp())
    return (candidate.open_visits, candidate.visits_last_30_days, *recency, candidate.volunteer_id)


def choose_visitor(
    candidates: Iterable[Candidate],
    *,
    estate_id: str,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    exclude: Collection[str] = (),
    required_skill: str = DEFAULT_SKILL,
) -> str | None:
    """Pick the volunteer for a follow-up visit, or ``None`` to leave it for staff.

    ``exclude`` carries the people who must not get this visit: the case
    handler (a resident should hear from someone else about how it went),
    volunteers who declined it, and the one it was taken from when overdue.
    """
    _require_aware(now)
    excluded = frozenset(exclude)
    eligible = [
        c
        for c in candidates
        if c.active
        and estate_id in c.estate_ids
        and required_skill in c.skills
        and c.volunteer_id not in excluded
        and is_available(c.availability, now=now, window=window)
    ]
    if not eligible:
        return None
    return min(eligible, key=_rank).volunteer_id


def reassignment_exclusions(
    handler_id: str | None,
    declined_by: Iterable[str],
    taken_from: Iterable[str],
) -> frozenset[str]:
    """Everyone who must not be offered the visit again.

    Combined in one place so decline and overdue paths can never disagree
    about who is off the list. ``handler_id`` may be ``None`` when the case was
    closed by staff rather than a volunteer.
    """
    excluded = set(declined_by) | set(taken_from)
    if handler_id is not None:
        excluded.add(handler_id)
    return frozenset(excluded)


def next_after_decline(
    candidates: Iterable[Candidate],
    *,
    estate_id: str,
    now: datetime,
    handler_id: str | None,
    declined_by: Iterable[str],
    taken_from: Iterable[str] = (),
    window: timedelta = DEFAULT_WINDOW,
    required_skill: str = DEFAULT_SKILL,
) -> str | None:
    """Choose again after a decline, skipping everyone who has declined.

    ``declined_by`` must include the volunteer who just declined as well as
    earlier decliners, so nobody is asked twice. ``taken_from`` keeps an
    earlier overdue holder excluded if the visit had already been moved once.
    """
    return choose_visitor(
        candidates,
        estate_id=estate_id,
        now=now,
        window=window,
        exclude=reassignment_exclusions(handler_id, declined_by, taken_from),
        required_skill=required_skill,
    )


def next_after_overdue(
    candidates: Iterable[Candidate],
    *,
    estate_id: str,
    now: datetime,
    handler_id: str | None,
    taken_from: str,
    overdue_reassignments: int,
    declined_by: Iterable[str] = (),
    window: timedelta = DEFAULT_WINDOW,
    required_skill: str = DEFAULT_SKILL,
) -> str | None:
    """Move an overdue visit to someone else, but only once.

    ``overdue_reassignments`` is how many times this visit has already been
    moved for being overdue. Once that reaches
    :data:`MAX_OVERDUE_REASSIGNMENTS` the answer is ``None``: a visit that
    keeps going overdue needs a staff member, not another automatic hop.
    """
    if overdue_reassignments < 0:
        raise ValueError("overdue_reassignments cannot be negative")
    if overdue_reassignments >= MAX_OVERDUE_REASSIGNMENTS:
        return None
    return choose_visitor(
        candidates,
        estate_id=estate_id,
        now=now,
        window=window,
        exclude=reassignment_exclusions(handler_id, declined_by, (taken_from,)),
        required_skill=required_skill,
    )
