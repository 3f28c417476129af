"""Issuing and answering satisfaction surveys. Plain functions over a session.

The token reaches only the resident: it is in the survey.issued event (for the message
that carries the link) and nowhere else; the table keeps its SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.db import utcnow
from services.common.errors import Conflict, Gone, NotFound
from services.common.ids import new_id, new_token
from services.surveys.models import Survey
from services.surveys.schemas import SurveyEventSchema, SurveyPageSchema, SurveySchema

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]
LOW_SCORE = 2


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_of(survey: Survey, now: datetime) -> str:
    if survey.status == "issued" and now >= survey.expires_at:
        return "expired"
    return survey.status


def event_data(survey: Survey, link: str | None = None) -> dict:
    recipient = None
    if link:
        recipient = {
            "name": survey.respondent_name,
            "phone": survey.respondent_phone,
            "household": survey.respondent_household,
        }
    return SurveyEventSchema().dump(
        {
            "survey_id": survey.id,
            "case_id": survey.case_id,
            "estate_id": survey.estate_id,
            "status": survey.status,
            "score": survey.score,
            "solved": survey.solved,
            "recipient": recipient,
            "link": link,
            "expires_at": survey.expires_at.isoformat() + "Z",
            "case_title": survey.case_title,
        }
    )


def issue(session: Session, emit: Emit, event: dict, base_url: str, ttl_days: int = 7) -> Survey:
    """On case.closed: a survey for the reporter, its link announced by survey.issued."""
    data = event["data"]
    token = new_token()
    now = utcnow()
    survey = Survey(
        id=new_id(),
        tenant=event["tenant"],
        case_id=data["case_id"],
        estate_id=data["estate_id"],
        closure_event_id=event["id"],
        token_hash=token_hash(token),
        status="issued",
        case_title=data["title"],
        category=data["category"],
        respondent_name=data["reporter"]["name"],
        respondent_phone=data["reporter"]["phone"],
        respondent_household=data["reporter"]["household"],
        expires_at=now + timedelta(days=ttl_days),
        created_at=now,
    )
    session.add(survey)
    session.flush()
    emit(session, "survey.issued", survey.id, survey.tenant, event_data(survey, f"{base_url}/s/{token}"))
    log.info("survey %s issued for case %s", survey.id, survey.case_id)  # never the token
    return survey


def void_unanswered(session: Session, tenant: str, case_id: str) -> int:
    """On case.reopened: an unanswered survey of the earlier closure no longer counts."""
    rows = session.scalars(
        select(Survey).where(Survey.tenant == tenant, Survey.case_id == case_id, Survey.status == "issued")
    ).all()
    now = utcnow()
    for survey in rows:
        survey.status = "voided"
        survey.voided_at = now
    return len(rows)


def by_token(session: Session, token: str, lock: bool = False) -> Survey:
    query = select(Survey).where(Survey.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update()
    survey = session.scalars(query).first()
    if survey is None:
        raise NotFound("survey not found")
    return survey


def page_view(session: Session, token: str) -> dict:
    survey = by_token(session, token)
    view = SurveyPageSchema().dump(survey)
    view["status"] = status_of(survey, utcnow())
    return view


def answer(session: Session, emit: Emit, token: str, data: dict) -> dict:
    """Record the resident's answer once; a low score or "not solved" is announced."""
    survey = by_token(session, token, lock=True)
    status = status_of(survey, utcnow())
    if status == "answered":
        raise Conflict("这份问卷已经填写过了 (already answered)")
    if status in ("expired", "voided"):
        raise Gone(f"这份问卷已{'过期' if status == 'expired' else '作废'} (survey {status})")
    for field in ("score", "speed", "attitude", "quality", "solved", "comment"):
        setattr(survey, field, data.get(field))
    survey.status = "answered"
    survey.answered_at = utcnow()
    session.flush()
    tracing.bind(tenant=survey.tenant, case_id=survey.case_id)
    log.info("survey %s of case %s answered: %s", survey.id, survey.case_id, survey.score)
    payload = event_data(survey)
    emit(session, "survey.answered", survey.id, survey.tenant, payload)
    if survey.score <= LOW_SCORE or survey.solved is False:
        emit(session, "survey.low_score", survey.id, survey.tenant, payload)
    return SurveyPageSchema().dump(survey)


def for_case(session: Session, tenant: str, case_id: str) -> list[dict]:
    now = utcnow()
    rows = session.scalars(
        select(Survey).where(Survey.tenant == tenant, Survey.case_id == case_id).order_by(Survey.id)
    ).all()
    out = []
    for survey in rows:
        view = SurveySchema().dump(survey)
        view["status"] = status_of(survey, now)
        out.append(view)
    return out
