"""Volunteer teams (红新小分队, 义务维修队, 红歌合唱队, 党员突击队): a leader and members.

A volunteer may belong to several teams; the leader is always one of the members, so a team
can never be led by an outsider and removing the leader is refused until another is named.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.volunteers import registry
from services.volunteers.models import Team, TeamMember
from services.volunteers.schemas import TeamSchema

NAME_TAKEN = "已有同名队伍 (a team with this name already exists)"


def _find(session: Session, tenant: str, team_id: str) -> Team:
    team = session.scalars(select(Team).where(Team.id == team_id, Team.tenant == tenant).with_for_update()).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


def _members(session: Session, team_id: str) -> list[str]:
    return list(
        session.scalars(select(TeamMember.volunteer_id).where(TeamMember.team_id == team_id).order_by("volunteer_id"))
    )


def _dump(session: Session, team: Team) -> dict:
    return TeamSchema().dump(team) | {"member_ids": _members(session, team.id)}


def _require_volunteers(session: Session, tenant: str, volunteer_ids: list[str], field: str) -> None:
    """Every id must be one of the tenant's volunteers; unknown ones are a 422 naming them."""
    known = registry.names(session, tenant, set(volunteer_ids))
    unknown = [v for v in volunteer_ids if v not in known]
    if unknown:
        raise ValidationFailed(
            "unknown volunteer", {field: [f"没有这个志愿者 (no such volunteer): {v}" for v in unknown]}
        )


def create(session: Session, tenant: str, data: dict) -> dict:
    member_ids = sorted(set(data["member_ids"]))
    _require_volunteers(session, tenant, member_ids, "member_ids")
    team = Team(
        id=new_id(), tenant=tenant, name=data["name"], description=data["description"], leader_id=data["leader_id"]
    )
    session.add(team)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(NAME_TAKEN) from None
    session.add_all(TeamMember(team_id=team.id, volunteer_id=v, tenant=tenant) for v in member_ids)
    session.flush()
    return _dump(session, team)


def update(session: Session, tenant: str, team_id: str, data: dict) -> dict:
    team = _find(session, tenant, team_id)
    if "leader_id" in data and data["leader_id"] not in _members(session, team.id):
        raise ValidationFailed("leader not a member", {"leader_id": ["队长必须是队员 (the leader must be a member)"]})
    for key, value in data.items():
        setattr(team, key, value)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(NAME_TAKEN) from None
    return _dump(session, team)


def add_member(session: Session, tenant: str, team_id: str, volunteer_id: str) -> dict:
    team = _find(session, tenant, team_id)
    registry.find(session, tenant, volunteer_id)
    if volunteer_id not in _members(session, team.id):
        session.add(TeamMember(team_id=team.id, volunteer_id=volunteer_id, tenant=tenant))
        session.flush()
    return _dump(session, team)


def remove_member(session: Session, tenant: str, team_id: str, volunteer_id: str) -> dict:
    team = _find(session, tenant, team_id)
    if volunteer_id not in _members(session, team.id):
        raise NotFound(f"volunteer {volunteer_id} is not a member of this team")
    if volunteer_id == team.leader_id:
        raise Conflict("不能移除队长，请先更换队长 (name another leader before removing this one)")
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.volunteer_id == volunteer_id))
    return _dump(session, team)


def get(session: Session, tenant: str, team_id: str) -> dict:
    team = session.scalars(select(Team).where(Team.id == team_id, Team.tenant == tenant)).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return _dump(session, team)


def list_teams(session: Session, tenant: str) -> list[dict]:
    return [_dump(session, t) for t in session.scalars(select(Team).where(Team.tenant == tenant).order_by(Team.name))]


def members_by_team(session: Session, tenant: str) -> dict[str, tuple[str, set[str]]]:
    """team id → (name, member ids), for the hours totals per team."""
    teams = {t.id: (t.name, set()) for t in session.scalars(select(Team).where(Team.tenant == tenant))}
    for team_id, volunteer_id in session.execute(
        select(TeamMember.team_id, TeamMember.volunteer_id).where(TeamMember.tenant == tenant)
    ):
        if team_id in teams:
            teams[team_id][1].add(volunteer_id)
    return teams
