"""Staff people: who works a company's cases (or supervises a community) in the workbench.

A membership ties a person (one per phone, :mod:`sessions`) to one company with a role
(``company_admin``, ``company_staff``) or to one community as its ``supervisor``. Who may invite
whom is one rule, :func:`may_invite`: the operator invites a company's first admin and a
community's first supervisor (the CLI); after that an admin invites and revokes their own
company's staff and a supervisor their own community's supervisors. API keys stay for machines;
nothing here is ever put in a cookie but the session.

Plain functions over a session; the routes (``routes/workbench_staff.py``) and the CLI call them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.gateway.models import Person, StaffMembership, Tenant

COMPANY_ROLES = ("company_admin", "company_staff")
COMMUNITY_ROLES = ("supervisor",)
ROLE_NAMES = {"company_admin": "管理员", "company_staff": "员工", "supervisor": "党支部督办"}
OPERATOR = "operator"


@dataclass(frozen=True)
class Membership:
    """A live membership as the pages see it."""

    id: str
    person_id: str
    phone: str
    name: str
    role: str
    tenant_id: str | None
    tenant_name: str | None
    community: str | None
    #: The person's other live memberships, which the workbench's switcher offers (see :func:`acting_first`).
    others: tuple[Membership, ...] = ()

    @property
    def actor(self) -> str:
        """How this person's changes are recorded (audit, history, comments, decisions): who, by id and
        name; a community's supervisor as ``supervisor:`` so the record says it was the party branch."""
        kind = "staff" if self.tenant_id else "supervisor"
        return f"{kind}:{self.person_id}/{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.role in ("company_admin", "supervisor")


def person_of_phone(session: Session, phone: str, now: datetime) -> Person:
    """The phone's person, made unverified when invited before their first sign-in."""
    person = session.scalars(select(Person).where(Person.phone == phone)).first()
    if person is None:
        person = Person(id=new_id(), phone=phone, created_at=now, verified_at=None)
        session.add(person)
        session.flush()
    return person


def _live(tenant_id: str | None, community: str | None):  # noqa: ANN202 - a select
    query = (
        select(StaffMembership, Person.phone, Tenant.name)
        .join(Person, Person.id == StaffMembership.person_id)
        .outerjoin(Tenant, Tenant.id == StaffMembership.tenant_id)
        .where(StaffMembership.revoked_at.is_(None))
    )
    if tenant_id is not None:
        query = query.where(StaffMembership.tenant_id == tenant_id)
    if community is not None:
        query = query.where(StaffMembership.community == community)
    return query.order_by(StaffMembership.created_at, StaffMembership.id)


def _view(row: StaffMembership, phone: str, tenant_name: str | None) -> Membership:
    return Membership(row.id, row.person_id, phone, row.name, row.role, row.tenant_id, tenant_name, row.community)


def memberships_of(session: Session, person_id: str) -> list[Membership]:
    """The person's live memberships, oldest first (the workbench acts as the first company one)."""
    rows = session.execute(_live(None, None).where(StaffMembership.person_id == person_id)).all()
    return [_view(*row) for row in rows]


def acting_first(found: list[Membership], acting: str | None) -> list[Membership]:
    """The person's memberships with the one they chose to act as first (the switcher's choice; an id
    that is not one of theirs, e.g. revoked, is ignored), then companies' before communities', oldest
    first; each knows the others, so every page can offer the switch."""
    ordered = sorted(found, key=lambda m: (m.id != acting, m.tenant_id is None))
    return [replace(m, others=tuple(o for o in ordered if o.id != m.id)) for m in ordered]


def members(session: Session, tenant_id: str | None = None, community: str | None = None) -> list[Membership]:
    """A company's staff (``tenant_id``) or a community's supervisors (``community``), live ones."""
    if (tenant_id is None) == (community is None):
        raise ValueError("a company or a community, one of them")
    return [_view(*row) for row in session.execute(_live(tenant_id, community)).all()]


def is_staff_of(session: Session, phone: str, tenant_id: str) -> bool:
    """The phone works for the company: it never rates or votes on that company's cases."""
    found = session.execute(
        select(StaffMembership.id)
        .join(Person, Person.id == StaffMembership.person_id)
        .where(Person.phone == phone, StaffMembership.tenant_id == tenant_id, StaffMembership.revoked_at.is_(None))
    ).first()
    return found is not None


def may_invite(inviter: Membership, role: str) -> bool:
    """An admin invites their company's staff and admins; a supervisor their community's supervisors."""
    if inviter.role == "company_admin":
        return role in COMPANY_ROLES
    if inviter.role == "supervisor":
        return role in COMMUNITY_ROLES
    return False


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise ValidationFailed("name", {"name": ["请填写姓名（1–50 字）"]})
    return name


def invite(
    session: Session,
    phone: str,
    name: str,
    role: str,
    invited_by: str,
    now: datetime,
    tenant_id: str | None = None,
    community: str | None = None,
) -> Membership:
    """A new live membership; 409 when the phone already has one in the same company or community."""
    name = _check_name(name)
    if tenant_id is not None and role not in COMPANY_ROLES:
        raise ValidationFailed("role", {"role": ["角色须为管理员或员工"]})
    if community is not None and role not in COMMUNITY_ROLES:
        raise ValidationFailed("role", {"role": ["社区只能邀请督办人员"]})
    person = person_of_phone(session, phone, now)
    if any(m.person_id == person.id for m in members(session, tenant_id, community)):
        raise Conflict("已是成员 (already a member)")
    row = StaffMembership(
        id=new_id(),
        person_id=person.id,
        tenant_id=tenant_id,
        community=community,
        role=role,
        name=name,
        invited_by=invited_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    tenant_name = session.scalar(select(Tenant.name).where(Tenant.id == tenant_id)) if tenant_id else None
    return _view(row, phone, tenant_name)


def invite_first(
    session: Session, phone: str, name: str, now: datetime, company: str | None = None, community: str | None = None
) -> Membership:
    """The operator's invitation: a company's first admin (by the company's name) or a community's
    first supervisor. Refused (409) when one is already there: from then on they invite."""
    if company is not None:
        tenant = session.scalars(select(Tenant).where(Tenant.name == company)).first()
        if tenant is None:
            raise NotFound(f"no company named {company!r}")
        if any(m.role == "company_admin" for m in members(session, tenant_id=tenant.id)):
            raise Conflict(f"{company} already has an admin: its admins invite further staff in the workbench")
        return invite(session, phone, name, "company_admin", OPERATOR, now, tenant_id=tenant.id)
    if community is None:
        raise ValueError("a company or a community")
    if not session.scalars(select(Tenant.id).where(Tenant.community == community)).first():
        raise NotFound(f"no company belongs to a community named {community!r}")
    if members(session, community=community):
        raise Conflict(f"{community} already has a supervisor: supervisors invite further ones in the workbench")
    return invite(session, phone, name, "supervisor", OPERATOR, now, community=community)


def revoke(session: Session, by: Membership, membership_id: str, now: datetime) -> Membership:
    """End a membership of the revoker's own company or community (404 otherwise; never oneself)."""
    scope = members(session, by.tenant_id, None) if by.tenant_id else members(session, community=by.community)
    target = next((m for m in scope if m.id == membership_id), None)
    if target is None or not may_invite(by, target.role):
        raise NotFound(f"membership {membership_id} not found")
    if target.person_id == by.person_id:
        raise Conflict("不能撤销自己的权限 (you cannot revoke yourself)")
    row = session.get(StaffMembership, membership_id)
    row.revoked_at = now
    row.revoked_by = by.actor
    session.flush()
    return target
