"""Survey link tokens: 192 random bits, of which only the SHA-256 is stored.

A survey may have several tokens (the first link, the reminder's link): any of them opens
the same survey, and answering through any of them answers it once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.ids import new_token
from services.surveys.models import Survey, SurveyToken


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint(session: Session, survey_id: str, purpose: str, now: datetime) -> str:
    """A fresh token for the survey; the caller puts it in the link and nowhere else."""
    token = new_token()
    session.add(SurveyToken(token_hash=token_hash(token), survey_id=survey_id, purpose=purpose, created_at=now))
    return token


def survey_of(session: Session, token: str, lock: bool = False) -> Survey:
    """The survey a link opens, or NotFound (a wrong token says nothing about any survey)."""
    query = (
        select(Survey)
        .join(SurveyToken, SurveyToken.survey_id == Survey.id)
        .where(SurveyToken.token_hash == token_hash(token))
    )
    if lock:
        query = query.with_for_update(of=Survey)
    survey = session.scalars(query).first()
    if survey is None:
        raise NotFound("survey not found")
    return survey
