"""Follow-up visits (回访): scheduled fairly on case.closed, declined, overdue, completed.

The choice itself is :mod:`services.volunteers.assignment` (pure); this module loads the
candidates, persists the decision and emits the events in the same transaction. Every state
change starts with a conditional UPDATE on the visit row, so two instances of the service (or
a decline racing the overdue sweep) can never both act on one visit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.volunteers import availability, hours
from services.volunteers.assignment import (
    MAX_OVERDUE_REASSIGNMENTS,
    Candidate,
    choose_visitor,
    next_after_decline,
    next_after_overdue,
)
from services.volunteers.models import Team, TeamMember, Visit, Volunteer
from services.volunteers.schemas import VisitEventSchema, VisitOverdueEventSchema, VisitSchema, utc_text

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]
OPEN = "scheduled"
#: ``overdue_count`` once a visit is left for staff: above the sweep's limit, never swept again.
LEFT_FOR_STAFF = MAX_OVERDUE_REASSIGNMENTS + 1


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    return _aware(moment).replace(tzinfo=None)


def candidates(session: Session, tenant: str, now: datetime) -> list[Candidate]:
    """Every volunteer of the tenant with their current load, for the assignment rule.

    Three index reads (see the visit indexes), however many visits the tenant has had: open
    visits per volunteer, visits assigned in the last 30 days, and each volunteer's latest
    assignment. A visit with a volunteer always has ``assigned_at``.
    """
    month_ago = _naive(now) - timedelta(days=30)
    load = dict(
        session.execute(
            select(Visit.volunteer_id, func.count())
            .where(Visit.tenant == tenant, Visit.status == OPEN)
            .group_by(Visit.volunteer_id)
        ).all()
    )
    recent = dict(
        session.execute(
            select(Visit.volunteer_id, func.count())
            .where(Visit.tenant == tenant, Visit.assigned_at >= month_ago)
            .group_by(Visit.volunteer_id)
        ).all()
    )
    last_assigned = (
        select(func.max(Visit.assigned_at))
        .where(Visit.volunteer_id == Volunteer.id)
        .correlate(Volunteer)
        .scalar_subquery()
    )
    return [
        Candidate(
            volunteer_id=v.id,
            active=v.active,
            estate_ids=frozenset(v.estate_ids),
            skills=frozenset(v.skills),
            open_visits=load.get(v.id, 0),
            visits_last_30_days=recent.get(v.id, 0),
            last_visit_at=_aware(last) if last else None,
            availability=availability.slots(v.availability),
        )
        for v, last in session.execute(select(Volunteer, last_assigned).where(Volunteer.tenant == tenant))
    ]


def _lock_pool(session: Session, tenant: str) -> None:
    # Lock the tenant's volunteers so concurrent assignments (several workers or instances)
    # see each other's new visits when they count loads; SQLite serialises writers anyway.
    session.execute(select(Volunteer.id).where(Volunteer.tenant == tenant).with_for_update()).all()


def _handler_ids(session: Session, tenant: str, handler: str | None) -> set[str]:
    """Who handled the case: a volunteer named by id or name, or every member of a team so named.

    case.closed carries the assignee as the desk typed it; when a team (义务维修队) did the
    work, none of its members should be the one asking the resident how it went.
    """
    if not handler:
        return set()
    people = set(
        session.scalars(
            select(Volunteer.id).where(
                Volunteer.tenant == tenant, (Volunteer.id == handler) | (Volunteer.name == handler)
            )
        )
    )
    members = session.scalars(
        select(TeamMember.volunteer_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.tenant == tenant, (Team.id == handler) | (Team.name == handler))
    )
    return people | set(members)


def schedule_follow_up(
    session: Session, emit: Emit, event: dict, due_days: int = 3, now: datetime | None = None
) -> Visit:
    """On case.closed: one visit for the reporter, to the fairest eligible volunteer."""
    data = event["data"]
    tenant = event["tenant"]
    now = _naive(now or utcnow())
    _lock_pool(session, tenant)
    pool = candidates(session, tenant, now)
    handler = data.get("assignee")
    exclude = _handler_ids(session, tenant, handler)
    chosen = choose_visitor(pool, estate_id=data["estate_id"], now=_aware(now), exclude=exclude)
    reporter = data["reporter"]
    visit = Visit(
        id=new_id(),
        tenant=tenant,
        case_id=data["case_id"],
        estate_id=data["estate_id"],
        closure_event_id=event["id"],
        volunteer_id=chosen,
        status=OPEN,
        due_at=now + timedelta(days=due_days),
        resident_name=reporter["name"],
        resident_phone=reporter["phone"],
        resident_household=reporter["household"],
        case_title=data["title"],
        handler=handler,
        created_at=now,
        assigned_at=now if chosen else None,
        declined_by=[],
        declines=[],
        taken_from=[],
        overdue_count=0,
    )
    session.add(visit)
    session.flush()
    emit(session, "visit.scheduled", visit.id, tenant, event_data(session, visit))
    log.info("visit %s scheduled for case %s: %s", visit.id, visit.case_id, chosen or "left for staff")
    return visit


def event_data(session: Session, visit: Visit) -> dict:
    volunteer = session.get(Volunteer, visit.volunteer_id) if visit.volunteer_id else None
    return VisitEventSchema().dump(
        {
            "visit_id": visit.id,
            "case_id": visit.case_id,
            "estate_id": visit.estate_id,
            "volunteer_id": visit.volunteer_id,
            "volunteer_name": volunteer.name if volunteer else None,
            "volunteer_phone": volunteer.phone if volunteer else None,
            "resident": {
                "name": visit.resident_name,
                "phone": visit.resident_phone,
                "household": visit.resident_household,
            },
            "case_title": visit.case_title,
            "due_at": visit.due_at.isoformat() + "Z",
            "status": visit.status,
            "outcome": visit.outcome,
            "notes": visit.notes,
        }
    )


def cancel_pending(session: Session, tenant: str, case_id: str, reason: str) -> int:
    """On case.reopened: a visit not yet made is no longer wanted."""
    result = session.execute(
        update(Visit)
        .where(Visit.tenant == tenant, Visit.case_id == case_id, Visit.status == OPEN)
        .values(status="cancelled", cancel_reason=reason)
    )
    return result.rowcount


def _claim(session: Session, tenant: str, visit_id: str, *conditions: Any) -> Visit:
    """Take the visit for this transaction with a conditional UPDATE, or explain why not.

    The UPDATE is the first write of the transaction: it holds the row (PostgreSQL) or the
    database write lock (SQLite) until commit, so the state read next is the latest.
    """
    claimed = session.execute(
        update(Visit)
        .where(Visit.id == visit_id, Visit.tenant == tenant, Visit.status == OPEN, *conditions)
        .values(attempts=Visit.attempts + 1)
    ).rowcount
    visit = session.scalars(
        select(Visit).where(Visit.id == visit_id, Visit.tenant == tenant).execution_options(populate_existing=True)
    ).first()
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if not claimed:
        if visit.status != OPEN:
            raise Conflict(f"visit is {visit.status}, only a scheduled visit can change")
        raise Conflict("visit is not assigned to this volunteer")
    return visit


def accept(session: Session, tenant: str, visit_id: str, volunteer_id: str, now: datetime | None = None) -> Visit:
    """The assigned volunteer takes the visit on (their page); accepting again changes nothing.

    Only the volunteer it is assigned to, and only while it is open: the same conditional
    UPDATE as every other change, so an accept racing a decline or the overdue sweep loses
    cleanly (409) instead of marking a visit that has already moved on.
    """
    visit = _claim(session, tenant, visit_id, Visit.volunteer_id == volunteer_id)
    if visit.accepted_at is None:
        visit.accepted_at = _naive(now or utcnow())
        session.flush()
        log.info("visit %s accepted by %s", visit.id, volunteer_id)
    return visit


def complete(
    session: Session,
    emit: Emit,
    tenant: str,
    visit_id: str,
    outcome: str,
    notes: str | None,
    credited_hours: float = 1.0,
    now: datetime | None = None,
    volunteer_id: str | None = None,
) -> dict:
    """Record the outcome; credits the volunteer's hours; unsatisfied reopens the case (requests).

    ``volunteer_id``: the volunteer's own page completes only a visit assigned to them (staff,
    through the API, may record any visit of their company).
    """
    mine = (Visit.volunteer_id == volunteer_id,) if volunteer_id is not None else ()
    visit = _claim(session, tenant, visit_id, *mine)
    now = _naive(now or utcnow())
    visit.status = "completed"
    visit.outcome = outcome
    visit.notes = notes
    visit.completed_at = now
    session.flush()
    if visit.volunteer_id:
        hours.credit(
            session,
            tenant,
            volunteer_id=visit.volunteer_id,
            estate_id=visit.estate_id,
            minutes=round(credited_hours * 60),
            reason=f"回访: {visit.case_title}",
            source="visit",
            source_id=visit.id,
            served_at=now,
        )
    emit(session, "visit.completed", visit.id, tenant, event_data(session, visit))
    log.info("visit %s of case %s completed: %s", visit.id, visit.case_id, outcome)
    return VisitSchema().dump(visit)


def decline(
    session: Session,
    emit: Emit,
    tenant: str,
    visit_id: str,
    volunteer_id: str,
    now: datetime | None = None,
    reason: str | None = None,
) -> dict:
    """The assigned volunteer declines, saying why: the next fairest one gets it (or staff, if nobody)."""
    visit = _claim(session, tenant, visit_id, Visit.volunteer_id == volunteer_id)
    now = _naive(now or utcnow())
    _lock_pool(session, tenant)
    declined = [*visit.declined_by, volunteer_id]
    pool = candidates(session, tenant, now)
    chosen = next_after_decline(
        pool,
        estate_id=visit.estate_id,
        now=_aware(now),
        handler_id=None,
        declined_by=[*declined, *_handler_ids(session, tenant, visit.handler)],
        taken_from=visit.taken_from,
    )
    visit.declined_by = declined
    visit.declines = [*(visit.declines or []), {"volunteer_id": volunteer_id, "reason": reason, "at": utc_text(now)}]
    _reassign(session, emit, visit, chosen, now)
    log.info("visit %s declined by %s, now %s", visit.id, volunteer_id, chosen or "left for staff")
    return VisitSchema().dump(visit)


def _reassign(session: Session, emit: Emit, visit: Visit, chosen: str | None, now: datetime) -> None:
    visit.volunteer_id = chosen
    visit.assigned_at = now if chosen else None
    visit.accepted_at = None  # the new volunteer has not said yes yet
    session.flush()
    if chosen:
        # The new volunteer is told through the same event as a first assignment.
        emit(session, "visit.scheduled", visit.id, visit.tenant, event_data(session, visit))


def overdue(session: Session, now: datetime, limit: int = 100) -> list[tuple[str, str, int]]:
    """(tenant, visit id, overdue count) of open visits past due that the sweep still owns."""
    rows = session.execute(
        select(Visit.tenant, Visit.id, Visit.overdue_count)
        .where(Visit.status == OPEN, Visit.due_at <= _naive(now), Visit.overdue_count <= MAX_OVERDUE_REASSIGNMENTS)
        .order_by(Visit.due_at)
        .limit(limit)
    ).all()
    return [(tenant, visit_id, count) for tenant, visit_id, count in rows]


def handle_overdue(
    session: Session, emit: Emit, tenant: str, visit_id: str, seen_count: int, now: datetime, due_days: int = 3
) -> bool:
    """Reassign an overdue visit once, then leave it for staff; ``False`` if another instance did.

    The conditional UPDATE on ``overdue_count`` is what makes this exactly-once: of two
    instances that both saw the visit overdue, only one changes the row.
    """
    now = _naive(now)
    next_count = seen_count + 1
    claimed = session.execute(
        update(Visit)
        .where(
            Visit.id == visit_id,
            Visit.status == OPEN,
            Visit.overdue_count == seen_count,
            Visit.due_at <= now,
        )
        .values(overdue_count=next_count)
    ).rowcount
    if not claimed:
        return False
    visit = session.scalars(select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)).one()
    holder, missed_due = visit.volunteer_id, visit.due_at
    _lock_pool(session, tenant)
    chosen = next_after_overdue(
        candidates(session, tenant, now),
        estate_id=visit.estate_id,
        now=_aware(now),
        handler_id=None,
        taken_from=holder or "",
        overdue_reassignments=seen_count,
        declined_by=[*visit.declined_by, *visit.taken_from, *_handler_ids(session, tenant, visit.handler)],
    )
    if chosen:
        visit.taken_from = [*visit.taken_from, holder] if holder else list(visit.taken_from)
        visit.due_at = now + timedelta(days=due_days)
        _reassign(session, emit, visit, chosen, now)
    else:
        visit.overdue_count = LEFT_FOR_STAFF
        visit.volunteer_id = None
        visit.assigned_at = None
        visit.accepted_at = None
        session.flush()
    missed_by = session.get(Volunteer, holder) if holder else None
    overdue_data = {
        "visit_id": visit.id,
        "case_id": visit.case_id,
        "estate_id": visit.estate_id,
        "case_title": visit.case_title,
        "volunteer_id": holder,
        "volunteer_name": missed_by.name if missed_by else None,
        "volunteer_phone": missed_by.phone if missed_by else None,
        "due_at": utc_text(missed_due),
        "reassigned_to": chosen,
    }
    emit(session, "visit.overdue", visit.id, tenant, VisitOverdueEventSchema().dump(overdue_data))
    log.info("visit %s overdue (held by %s): %s", visit.id, holder, chosen or "left for staff")
    return True


def for_case(session: Session, tenant: str, case_id: str) -> list[dict]:
    rows = session.scalars(select(Visit).where(Visit.tenant == tenant, Visit.case_id == case_id).order_by(Visit.id))
    return VisitSchema(many=True).dump(rows)


def open_for_volunteer(session: Session, tenant: str, volunteer_id: str) -> list[Visit]:
    return list(
        session.scalars(
            select(Visit)
            .where(Visit.tenant == tenant, Visit.volunteer_id == volunteer_id, Visit.status == OPEN)
            .order_by(Visit.due_at)
        )
    )


def sweep_overdue(db: Any, now: datetime, due_days: int = 3) -> int:
    """The timer's work: each overdue visit in its own transaction; returns how many this instance took."""
    with db.read() as session:
        found = overdue(session, now)
    taken = 0
    for tenant, visit_id, seen_count in found:
        with db.transaction() as session:
            taken += handle_overdue(session, db.emit, tenant, visit_id, seen_count, now, due_days)
    return taken


def find(session: Session, tenant: str, visit_id: str) -> Visit:
    visit = session.scalars(select(Visit).where(Visit.id == visit_id, Visit.tenant == tenant)).first()
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    return visit
