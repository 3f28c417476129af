"""What a tenant sees of its surveys: answers and timing, never a token or a link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.surveys.answers import status_of
from services.surveys.models import Survey
from services.surveys.schemas import SurveySchema


def for_case(session: Session, tenant: str, case_id: str, now: datetime) -> list[dict]:
    rows = session.scalars(
        select(Survey).where(Survey.tenant == tenant, Survey.case_id == case_id).order_by(Survey.id)
    ).all()
    out = []
    for survey in rows:
        view = SurveySchema().dump(survey)
        view["status"] = status_of(survey, now)
        out.append(view)
    return out
