"""Which households a verified phone belongs to, by the community's word (see HouseholdMember)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.gateway.models import HouseholdMember


def confirmed(session: Session, phone: str, estate_id: str | None = None) -> list[HouseholdMember]:
    """The households the community confirmed for ``phone`` (of one estate, when given)."""
    query = select(HouseholdMember).where(HouseholdMember.phone == phone, HouseholdMember.status == "confirmed")
    if estate_id is not None:
        query = query.where(HouseholdMember.estate_id == estate_id)
    return list(session.scalars(query.order_by(HouseholdMember.estate_id, HouseholdMember.household)))


def is_member(session: Session, phone: str, estate_id: str, household: str) -> bool:
    """True when the community confirmed ``phone`` in exactly this household of this estate."""
    return (
        session.scalar(
            select(HouseholdMember.id).where(
                HouseholdMember.phone == phone,
                HouseholdMember.estate_id == estate_id,
                HouseholdMember.household == household,
                HouseholdMember.status == "confirmed",
            )
        )
        is not None
    )


def in_register(session: Session, estate_id: str, household: str) -> bool | None:
    """Whether the estate's register knows ``household`` (anyone confirmed in it); None when the
    community has no register for the estate yet, so nothing can be checked against it."""
    rows = select(HouseholdMember.household).where(
        HouseholdMember.estate_id == estate_id, HouseholdMember.status == "confirmed"
    )
    if session.scalar(rows.limit(1)) is None:
        return None
    return session.scalar(rows.where(HouseholdMember.household == household).limit(1)) is not None
