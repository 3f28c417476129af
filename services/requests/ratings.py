"""A case's rating from its surveys' answers, and taking one back when the surveys service voids it.

The case shows the newest rating whose answer was not voided (none if there is none): so a
voided answer's rating disappears, and an earlier fair rating of the same case shows again, as
if the voided answer had never come. The surveys service alone decides that an answer is void
(services/surveys/voiding.py); this module only follows ``survey.answered`` and
``survey.answer_voided``, whichever arrives first, each at most once (the inbox).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import NotFound
from services.requests import audit
from services.requests.cases import case_of
from services.requests.models import Case, CaseRating

ACTOR = "system:survey"


def record(
    session: Session,
    tenant: str,
    case_id: str,
    survey_id: str,
    score: int,
    verified: bool = False,
    answered_at: datetime | None = None,
) -> bool:
    """survey.answered: keep the survey's rating; the case shows it unless it was already voided."""
    try:
        case = case_of(session, tenant, case_id, lock=True)
    except NotFound:
        return False
    now = utcnow()
    row = session.get(CaseRating, survey_id)
    if row is None:
        row = CaseRating(survey_id=survey_id, case_id=case.id, voided_at=None)
        session.add(row)
    row.score, row.verified, row.answered_at = score, verified, answered_at or now
    show(session, case, now)
    return True


def void(session: Session, tenant: str, case_id: str, survey_id: str) -> bool:
    """survey.answer_voided: the survey's rating no longer counts (remembered if its answer is still on its way)."""
    try:
        case = case_of(session, tenant, case_id, lock=True)
    except NotFound:
        return False
    now = utcnow()
    row = session.get(CaseRating, survey_id)
    if row is None:
        session.add(CaseRating(survey_id=survey_id, case_id=case.id, score=None, verified=False, voided_at=now))
    elif row.voided_at is None:
        row.voided_at = now
    show(session, case, now)
    return True


def show(session: Session, case: Case, now: datetime) -> None:
    """Put the newest standing rating on the case (audited when it changes)."""
    session.flush()
    latest = session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case.id, CaseRating.voided_at.is_(None), CaseRating.score.is_not(None))
        .order_by(CaseRating.answered_at.desc(), CaseRating.survey_id.desc())
        .limit(1)
    ).first()
    before, was_verified = audit.snapshot(case), case.rating_verified
    case.rating = latest.score if latest else None
    case.rating_verified = bool(latest and latest.verified)
    if audit.record(session, case, before, ACTOR, "survey", now) or case.rating_verified != was_verified:
        case.updated_at = now
