"""Contacts: how to reach each person of a tenant, and the topics (estate, building, team) they belong to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import NotFound
from services.common.ids import new_id
from services.notifications import bulk
from services.notifications.models import Contact, ContactTeam, TenantSettings
from services.notifications.quiet_hours import QuietHours

FIELDS = ("name", "email", "role", "wechat_openid", "estate_id", "household", "building")
CHUNK = 2000


def building_of(household: str | None) -> str | None:
    """ "3-2-501" (building-unit-room) → "3": the usual way estates number their flats."""
    if not household:
        return None
    head = household.split("-", 1)[0].strip()
    return head or None


def _insert(session: Session):  # noqa: ANN202 - the dialect's insert construct
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def ensure(session: Session, tenant: str, phone: str, name: str | None, role: str) -> None:
    """Remember someone an event named, without overwriting what the tenant told us about them."""
    session.execute(
        _insert(session)(Contact)
        .values(id=new_id(), tenant=tenant, phone=phone, name=name, role=role, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["tenant", "phone"])
    )


def save_many(session: Session, tenant: str, rows: Sequence[Mapping]) -> int:
    """Insert or update contacts by phone, in bulk; teams replaced where given."""
    now = utcnow()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        values = [
            {"id": new_id(), "tenant": tenant, "phone": row["phone"], "created_at": now}
            | {name: row.get(name) for name in FIELDS}
            | {
                "role": row.get("role") or "resident",
                "building": row.get("building") or building_of(row.get("household")),
            }
            for row in chunk
        ]
        bulk.insert_rows(session, Contact, values, conflict=("tenant", "phone"), update=FIELDS)
        with_teams = {row["phone"]: row["teams"] for row in chunk if row.get("teams") is not None}
        if with_teams:
            ids = dict(
                session.execute(
                    select(Contact.phone, Contact.id).where(Contact.tenant == tenant, Contact.phone.in_(with_teams))
                ).all()
            )
            session.execute(delete(ContactTeam).where(ContactTeam.contact_id.in_(ids.values())))
            teams = [
                {"contact_id": ids[phone], "team": team, "tenant": tenant}
                for phone, names in with_teams.items()
                for team in dict.fromkeys(names)
            ]
            bulk.insert_rows(session, ContactTeam, teams)
    return len(rows)


def by_phone(session: Session, tenant: str, phone: str) -> Contact | None:
    return session.scalars(select(Contact).where(Contact.tenant == tenant, Contact.phone == phone)).one_or_none()


def by_phones(session: Session, tenant: str, phones: Iterable[str]) -> dict[str, Contact]:
    phones = list(dict.fromkeys(phones))
    found: dict[str, Contact] = {}
    for start in range(0, len(phones), CHUNK):
        rows = session.scalars(
            select(Contact).where(Contact.tenant == tenant, Contact.phone.in_(phones[start : start + CHUNK]))
        )
        found |= {row.phone: row for row in rows}
    return found


def staff_of(session: Session, tenant: str, estate_id: str | None) -> list[Contact]:
    """The tenant's staff for an estate: those registered to it, and those of no one estate."""
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.tenant == tenant,
                Contact.role == "staff",
                or_(Contact.estate_id == estate_id, Contact.estate_id.is_(None)),
            )
            .order_by(Contact.created_at, Contact.id)
        )
    )


def get(session: Session, tenant: str, contact_id: str) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.tenant != tenant:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def teams_of(session: Session, contact_id: str) -> list[str]:
    return sorted(session.scalars(select(ContactTeam.team).where(ContactTeam.contact_id == contact_id)))


def view(session: Session, contact: Contact) -> dict:
    return {
        "id": contact.id,
        "phone": contact.phone,
        "name": contact.name,
        "email": contact.email,
        "role": contact.role,
        "wechat_openid": contact.wechat_openid,
        "estate_id": contact.estate_id,
        "household": contact.household,
        "building": contact.building,
        "teams": teams_of(session, contact.id),
        "preferences": contact.preferences or {},
    }


# -- the tenant's settings ------------------------------------------------------------


def settings_of(session: Session, tenant: str) -> TenantSettings:
    """The tenant's row, or the defaults (not stored until the tenant changes something)."""
    return session.get(TenantSettings, tenant) or TenantSettings(
        tenant=tenant, company_name=None, hotline=None, quiet_start="22:00", quiet_end="07:00", timezone="Asia/Shanghai"
    )


def save_settings(session: Session, tenant: str, changes: Mapping) -> TenantSettings:
    row = session.get(TenantSettings, tenant)
    if row is None:
        row = settings_of(session, tenant)
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    session.flush()
    return row


def settings_view(row: TenantSettings) -> dict:
    return {
        "company_name": row.company_name,
        "hotline": row.hotline,
        "quiet_hours": {"start": row.quiet_start, "end": row.quiet_end, "timezone": row.timezone},
    }


def sender_values(row: TenantSettings) -> dict[str, str]:
    """Template variables the tenant overrides (only those it set)."""
    values = {}
    if row.company_name:
        values["company"] = row.company_name
    if row.hotline:
        values["hotline"] = row.hotline
    return values


def quiet_hours(row: TenantSettings) -> QuietHours:
    return QuietHours(row.quiet_start, row.quiet_end, row.timezone)
