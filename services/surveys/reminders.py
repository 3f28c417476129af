"""The one reminder to residents who have not answered (default 48 h after the link).

Only token hashes are stored, so the reminder carries a new token for the same survey: both
links open it, and it is answered once. ``reminder_sent_at IS NULL`` in a conditional UPDATE
makes the reminder go out exactly once even with several service instances.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.surveys.issuing import Emit, announce
from services.surveys.models import Survey


def send_due_reminders(session: Session, emit: Emit, base_url: str, now: datetime, limit: int = 200) -> int:
    """Timer: announce ``survey.reminder_due`` for unanswered, unexpired surveys whose time has come."""
    due = session.scalars(
        select(Survey)
        .where(
            Survey.status == "issued",
            Survey.reminder_due_at <= now,
            Survey.reminder_sent_at.is_(None),
            Survey.link_sent_at.is_not(None),
            Survey.expires_at > now,
        )
        .order_by(Survey.reminder_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for survey in due:
        claimed = session.execute(
            update(Survey)
            .where(Survey.id == survey.id, Survey.status == "issued", Survey.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        session.refresh(survey)
        announce(session, emit, survey, base_url, now, reminder=True)
        sent += 1
    return sent
