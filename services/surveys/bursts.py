"""Answers arriving in bursts from one client: flagged for the supervisor, still recorded.

The gateway passes a fingerprint (SHA-256 of client IP + User-Agent, never the raw IP).
Three or more answers from one fingerprint within ten minutes is not how residents answer
the surveys of their own cases; it is how someone answers other people's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.models import Survey
from services.surveys.tallies import Changes

WINDOW = timedelta(minutes=10)
THRESHOLD = 3


def in_window(answered: Iterable[datetime], now: datetime) -> list[datetime]:
    """The answer times that fall in the window ending at ``now``."""
    return [at for at in answered if now - WINDOW <= at <= now]


def is_burst(answered: Iterable[datetime], now: datetime) -> bool:
    return len(in_window(answered, now)) >= THRESHOLD


def flag(session: Session, survey: Survey, now: datetime, changes: Changes) -> int:
    """After ``survey`` is answered: flag it and the fingerprint's other recent answers if a burst.

    Returns how many answers are flagged (0 when no burst).
    """
    if not survey.fingerprint:
        return 0
    recent = session.scalars(
        select(Survey).where(
            Survey.fingerprint == survey.fingerprint,
            Survey.answered_at >= now - WINDOW,
            Survey.answered_at <= now,
        )
    ).all()
    if not is_burst([s.answered_at for s in recent], now):
        return 0
    for row in recent:
        if not row.flagged_burst:
            changes.before(row)
            row.flagged_burst = True
            changes.after(row)
    return len(recent)
