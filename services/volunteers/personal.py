"""What a volunteer sees of their own work (the pages at /v): where they volunteer, their visits.

A signed-in phone may volunteer for several companies; each registration is a separate
volunteer of its tenant, so everything below is asked per (tenant, volunteer id). The rules of
what a volunteer may see and do live here, not in the pages: a visit is theirs while it is
assigned to them (or was, when it was completed or called off), and the resident's name and
phone are shown only while the visit is open and assigned to them.
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.fields import mainland_mobile
from services.volunteers.models import Visit, Volunteer
from services.volunteers.schemas import OwnVisitSchema, VolunteerRoleSchema
from services.volunteers.visits import OPEN, _naive

#: How many finished (completed or called-off) visits the list shows, newest first.
RECENT_FINISHED = 30


def roles(session: Session, phone: str) -> list[dict]:
    """Every registration of ``phone`` in the volunteer registry, across tenants ([] if none)."""
    try:
        phone = mainland_mobile(phone)
    except ValidationError:  # not a phone: no volunteer
        return []
    found = session.scalars(select(Volunteer).where(Volunteer.phone == phone).order_by(Volunteer.tenant))
    return VolunteerRoleSchema(many=True).dump(
        [{"tenant": v.tenant, "volunteer_id": v.id, "name": v.name, "active": v.active} for v in found]
    )


def building(household: str) -> str:
    """The building of a household "楼-单元-房号" ("3-2-501" → "3号楼")."""
    return f"{household.split('-', 1)[0]}号楼"


def state(visit: Visit, now: datetime) -> str:
    """assigned, accepted, overdue (open and past due, accepted or not), done or cancelled."""
    if visit.status == "completed":
        return "done"
    if visit.status != OPEN:
        return "cancelled"
    if visit.due_at <= _naive(now):
        return "overdue"
    return "accepted" if visit.accepted_at is not None else "assigned"


def view(visit: Visit, now: datetime) -> dict:
    """A visit of the volunteer as their page shows it, with what they may do now."""
    is_open = visit.status == OPEN
    actions = []
    if is_open:
        actions = ["complete", "decline"] if visit.accepted_at is not None else ["accept", "complete", "decline"]
    return OwnVisitSchema().dump(
        {
            "id": visit.id,
            "case_id": visit.case_id,
            "case_title": visit.case_title,
            "estate_id": visit.estate_id,
            "household": visit.resident_household,
            "building": building(visit.resident_household),
            "status": visit.status,
            "state": state(visit, now),
            "due_at": visit.due_at,
            "accepted_at": visit.accepted_at,
            "completed_at": visit.completed_at,
            "outcome": visit.outcome,
            "notes": visit.notes,
            # Contact only while it is the volunteer's open visit: a done visit is nobody's business.
            "resident_name": visit.resident_name if is_open else None,
            "resident_phone": visit.resident_phone if is_open else None,
            "actions": actions,
        }
    )


def _theirs(tenant: str, volunteer_id: str) -> tuple:
    return (Visit.tenant == tenant, Visit.volunteer_id == volunteer_id)


def visits_of(session: Session, tenant: str, volunteer_id: str, now: datetime) -> list[dict]:
    """Open visits (soonest due first), then the most recent finished ones."""
    open_rows = session.scalars(
        select(Visit).where(*_theirs(tenant, volunteer_id), Visit.status == OPEN).order_by(Visit.due_at, Visit.id)
    ).all()
    finished = session.scalars(
        select(Visit)
        .where(*_theirs(tenant, volunteer_id), Visit.status != OPEN)
        .order_by(Visit.id.desc())
        .limit(RECENT_FINISHED)
    ).all()
    return [view(visit, now) for visit in [*open_rows, *finished]]


def visit_of(session: Session, tenant: str, volunteer_id: str, visit_id: str) -> Visit:
    """The visit if it is this volunteer's (see the module doc), else 404: another volunteer's
    visit, or another company's, is simply not found."""
    visit = session.scalars(select(Visit).where(Visit.id == visit_id, *_theirs(tenant, volunteer_id))).first()
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    return visit
