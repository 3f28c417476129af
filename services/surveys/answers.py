"""The resident's side: what the page shows (reading records nothing) and the one answer.

A GET of the link may come from a link scanner in an SMS, WeChat or mail client, so only a
POST records anything. The answer is taken once per survey, whichever of its links is used.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from services.common import tracing
from services.common.errors import Conflict, Gone
from services.surveys import bursts, tallies, templates, tokens
from services.surveys.issuing import Emit, event_data
from services.surveys.models import Survey
from services.surveys.schemas import SurveyPageSchema

log = logging.getLogger(__name__)

LOW_SCORE = 2


def status_of(survey: Survey, now: datetime) -> str:
    if survey.status == "issued" and now >= survey.expires_at:
        return "expired"
    return survey.status


def is_low(survey: Survey) -> bool:
    """Overall 1–2, or the problem not solved: the case is reopened and the manager alerted."""
    return survey.score <= LOW_SCORE or survey.solved is False


def page_view(session: Session, token: str, now: datetime) -> dict:
    """What the page shows: the case title, the state and the questions; nothing personal."""
    survey = tokens.survey_of(session, token)
    view = SurveyPageSchema().dump(survey)
    view["status"] = status_of(survey, now)
    view["questions"] = templates.version(session, survey.tenant, survey.template_version)
    return view


def answer(session: Session, emit: Emit, token: str, data: dict, now: datetime, fingerprint: str | None = None) -> dict:
    """Record the answer once; announce survey.answered, and survey.low_score when low."""
    survey = tokens.survey_of(session, token, lock=True)
    status = status_of(survey, now)
    if status == "answered":
        raise Conflict("这份问卷已经填写过了 (already answered)")
    if status in ("expired", "voided"):
        raise Gone(f"这份问卷已{'过期' if status == 'expired' else '作废'} (survey {status})")
    template = templates.version(session, survey.tenant, survey.template_version)
    changes = tallies.Changes()
    changes.before(survey)
    for field, value in templates.accepts(template, data).items():
        setattr(survey, field, value)
    survey.status = "answered"
    survey.answered_at = now
    survey.fingerprint = fingerprint
    session.flush()
    changes.after(survey)
    flagged = bursts.flag(session, survey, now, changes)
    changes.apply(session)
    tracing.bind(tenant=survey.tenant, case_id=survey.case_id)
    log.info("survey %s of case %s answered: %s%s", survey.id, survey.case_id, survey.score, " (burst)" * bool(flagged))
    payload = event_data(survey)
    emit(session, "survey.answered", survey.id, survey.tenant, payload)
    if is_low(survey):
        emit(session, "survey.low_score", survey.id, survey.tenant, payload)
    view = SurveyPageSchema().dump(survey)
    view["questions"] = template
    return view
