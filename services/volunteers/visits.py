"""Volunteers and follow-up visits: plain functions over a session (see cases.py's ``emit``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.volunteers.assignment import Candidate, choose_visitor
from services.volunteers.models import Visit, Volunteer
from services.volunteers.schemas import VisitEventSchema, VisitSchema, VolunteerSchema

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]
OPEN = "scheduled"


def register(session: Session, tenant: str, data: dict) -> dict:
    volunteer = Volunteer(id=new_id(), tenant=tenant, **data)
    session.add(volunteer)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("a volunteer with this phone is already registered") from None
    return VolunteerSchema().dump(volunteer)


def list_volunteers(session: Session, tenant: str) -> list[dict]:
    rows = session.scalars(select(Volunteer).where(Volunteer.tenant == tenant).order_by(Volunteer.id))
    return VolunteerSchema(many=True).dump(rows)


def candidates(session: Session, tenant: str, now: datetime) -> list[Candidate]:
    """Every volunteer of the tenant with their current load, for the assignment rule."""
    month_ago = now - timedelta(days=30)
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
            .where(Visit.tenant == tenant, Visit.created_at >= month_ago)
            .group_by(Visit.volunteer_id)
        ).all()
    )
    last = dict(
        session.execute(
            select(Visit.volunteer_id, func.max(Visit.created_at))
            .where(Visit.tenant == tenant)
            .group_by(Visit.volunteer_id)
        ).all()
    )
    return [
        Candidate(
            volunteer_id=v.id,
            active=v.active,
            estate_ids=frozenset(v.estate_ids),
            skills=frozenset(v.skills),
            open_visits=load.get(v.id, 0),
            visits_last_30_days=recent.get(v.id, 0),
            last_visit_at=last[v.id].replace(tzinfo=UTC) if last.get(v.id) else None,
            availability=(),
        )
        for v in session.scalars(select(Volunteer).where(Volunteer.tenant == tenant))
    ]


def schedule_follow_up(session: Session, emit: Emit, event: dict, due_days: int = 3) -> Visit:
    """On case.closed: one visit for the reporter, to the fairest eligible volunteer."""
    data = event["data"]
    tenant = event["tenant"]
    now = utcnow()
    # Lock the tenant's volunteers so concurrent closures (several workers or instances) see
    # each other's new visits when they count loads; SQLite serialises writers anyway.
    session.execute(select(Volunteer.id).where(Volunteer.tenant == tenant).with_for_update()).all()
    pool = candidates(session, tenant, now.replace(tzinfo=UTC))
    handler = data.get("assignee")
    exclude = {c.volunteer_id for c in pool if handler and c.volunteer_id == handler}
    exclude |= set(
        session.scalars(select(Volunteer.id).where(Volunteer.tenant == tenant, Volunteer.name == handler))
        if handler
        else []
    )
    chosen = choose_visitor(pool, estate_id=data["estate_id"], now=now.replace(tzinfo=UTC), exclude=exclude)
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
    visits = session.scalars(
        select(Visit).where(Visit.tenant == tenant, Visit.case_id == case_id, Visit.status == OPEN)
    ).all()
    for visit in visits:
        visit.status = "cancelled"
        visit.cancel_reason = reason
    return len(visits)


def complete(session: Session, emit: Emit, tenant: str, visit_id: str, outcome: str, notes: str | None) -> dict:
    visit = session.scalars(select(Visit).where(Visit.id == visit_id, Visit.tenant == tenant).with_for_update()).first()
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if visit.status != OPEN:
        raise Conflict(f"visit is {visit.status}, only a scheduled visit can be completed")
    visit.status = "completed"
    visit.outcome = outcome
    visit.notes = notes
    visit.completed_at = utcnow()
    session.flush()
    emit(session, "visit.completed", visit.id, tenant, event_data(session, visit))
    log.info("visit %s of case %s completed: %s", visit.id, visit.case_id, outcome)
    return VisitSchema().dump(visit)


def for_case(session: Session, tenant: str, case_id: str) -> list[dict]:
    rows = session.scalars(select(Visit).where(Visit.tenant == tenant, Visit.case_id == case_id).order_by(Visit.id))
    return VisitSchema(many=True).dump(rows)
