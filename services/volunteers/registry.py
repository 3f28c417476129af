"""The volunteer registry (志愿者): registration, changes, pausing, lookup within a tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.volunteers.availability import normalised
from services.volunteers.models import TeamMember, Volunteer
from services.volunteers.schemas import VolunteerSchema

PHONE_TAKEN = "该手机号已登记为志愿者 (a volunteer with this phone is already registered)"


def _clean(data: dict) -> dict:
    """Store sets as sorted, de-duplicated lists, so the same volunteer always looks the same."""
    cleaned = dict(data)
    for key in ("estate_ids", "skills"):
        if key in cleaned:
            cleaned[key] = sorted(set(cleaned[key]))
    if "availability" in cleaned:
        cleaned["availability"] = normalised(cleaned["availability"])
    return cleaned


def find(session: Session, tenant: str, volunteer_id: str, lock: bool = False) -> Volunteer:
    """The tenant's volunteer, or 404 (another tenant's id is simply not found)."""
    query = select(Volunteer).where(Volunteer.id == volunteer_id, Volunteer.tenant == tenant)
    volunteer = session.scalars(query.with_for_update() if lock else query).first()
    if volunteer is None:
        raise NotFound(f"volunteer {volunteer_id} not found")
    return volunteer


def team_ids(session: Session, volunteer_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {vid: [] for vid in volunteer_ids}
    if volunteer_ids:
        rows = session.execute(
            select(TeamMember.volunteer_id, TeamMember.team_id)
            .where(TeamMember.volunteer_id.in_(volunteer_ids))
            .order_by(TeamMember.team_id)
        )
        for volunteer_id, team_id in rows:
            found[volunteer_id].append(team_id)
    return found


def dump(session: Session, volunteers: list[Volunteer]) -> list[dict]:
    teams = team_ids(session, [v.id for v in volunteers])
    dumped = VolunteerSchema(many=True).dump(volunteers)
    for row in dumped:
        row["team_ids"] = teams[row["id"]]
    return dumped


def register(session: Session, tenant: str, data: dict) -> dict:
    volunteer = Volunteer(id=new_id(), tenant=tenant, **_clean(data))
    session.add(volunteer)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(PHONE_TAKEN) from None
    return dump(session, [volunteer])[0]


def update(session: Session, tenant: str, volunteer_id: str, data: dict) -> dict:
    """Change any subset of fields; ``active=False`` pauses (no new visits or shifts)."""
    volunteer = find(session, tenant, volunteer_id, lock=True)
    for key, value in _clean(data).items():
        setattr(volunteer, key, value)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(PHONE_TAKEN) from None
    return dump(session, [volunteer])[0]


def get(session: Session, tenant: str, volunteer_id: str) -> dict:
    return dump(session, [find(session, tenant, volunteer_id)])[0]


def list_volunteers(session: Session, tenant: str) -> list[dict]:
    rows = session.scalars(select(Volunteer).where(Volunteer.tenant == tenant).order_by(Volunteer.id)).all()
    return dump(session, list(rows))


def names(session: Session, tenant: str, volunteer_ids: set[str]) -> dict[str, Volunteer]:
    if not volunteer_ids:
        return {}
    rows = session.scalars(select(Volunteer).where(Volunteer.tenant == tenant, Volunteer.id.in_(volunteer_ids)))
    return {v.id: v for v in rows}
