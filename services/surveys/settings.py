"""A tenant's survey timing: delay before the link is sent, validity, and when to remind.

The delay lets the follow-up visit (回访) come before the survey; the reminder is sent once
to residents who have not answered yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.surveys.models import SurveySettings


@dataclass(frozen=True)
class Timing:
    link_delay_minutes: int = 0
    expiry_days: int = 7
    reminder_after_hours: int = 48


def of(session: Session, tenant: str, default_expiry_days: int = 7) -> Timing:
    row = session.get(SurveySettings, tenant)
    if row is None:
        return Timing(expiry_days=default_expiry_days)
    return Timing(row.link_delay_minutes, row.expiry_days, row.reminder_after_hours)


def view(session: Session, tenant: str, default_expiry_days: int = 7) -> dict:
    return asdict(of(session, tenant, default_expiry_days))


def save(session: Session, tenant: str, data: dict, now: datetime, default_expiry_days: int = 7) -> dict:
    """Replace the given fields (a PUT with some fields keeps the others)."""
    timing = asdict(of(session, tenant, default_expiry_days)) | data
    row = session.get(SurveySettings, tenant, with_for_update=True)
    if row is None:
        row = SurveySettings(tenant=tenant)
        session.add(row)
    for key, value in timing.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return timing
