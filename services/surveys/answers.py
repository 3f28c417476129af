"""The resident's side: what the page shows (reading records nothing) and the one answer.

A GET of the link may come from a link scanner in an SMS, WeChat or mail client, so only a
POST records anything. The answer is taken once per survey, whichever of its links is used,
or by case from the resident pages. Every answer is kept; whether it counts in public
(``verified``) is the gateway's word on who answered, never the answer's own.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.errors import Conflict, Gone, NotFound
from services.surveys import bursts, tallies, templates, tokens
from services.surveys.issuing import Emit, event_data
from services.surveys.models import Survey
from services.surveys.schemas import SurveyPageSchema

log = logging.getLogger(__name__)

LOW_SCORE = 2

#: Who answers, as the gateway vouches: ``verified`` (the community confirmed the signed-in
#: phone in the survey's household), ``phone_hash`` (SHA-256 of that phone) and, for answers
#: by case rather than by link, ``phone`` (the signed-in phone, E.164).
Respondent = dict


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


def household_of(session: Session, token: str) -> dict:
    """The estate and household a link's survey asks: what the gateway checks a signed-in phone against."""
    survey = tokens.survey_of(session, token)
    return {"estate_id": survey.estate_id, "household": survey.respondent_household, "tenant": survey.tenant}


def latest_for_case(session: Session, tenant: str, case_id: str, lock: bool = False) -> Survey:
    """The case's newest survey whose link went out (a reopened case's earlier one is voided), or NotFound.

    A survey still inside the tenant's link delay is not there yet for the resident either.
    """
    query = (
        select(Survey)
        .where(
            Survey.tenant == tenant,
            Survey.case_id == case_id,
            Survey.campaign_id.is_(None),
            Survey.link_sent_at.is_not(None),
        )
        .order_by(Survey.created_at.desc(), Survey.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    survey = session.scalars(query).first()
    if survey is None:
        raise NotFound(f"no survey for case {case_id}")
    return survey


def resident_view(session: Session, tenant: str, case_id: str, now: datetime) -> dict:
    """The resident pages' view of a case's survey: as the link's page, plus its id, estate and household.

    Never a token: a signed-in resident answers by case (:func:`answer_for_case`), not by link.
    """
    survey = latest_for_case(session, tenant, case_id)
    view = SurveyPageSchema().dump(survey)
    view |= {
        "survey_id": survey.id,
        "case_id": survey.case_id,
        "estate_id": survey.estate_id,
        "household": survey.respondent_household,
        "status": status_of(survey, now),
        "questions": templates.version(session, survey.tenant, survey.template_version),
    }
    return view


def is_verified(respondent: Respondent | None) -> bool:
    """Only the gateway's word that the community confirmed the answering phone in the household counts."""
    return bool(respondent) and respondent.get("verified") is True


def answer(
    session: Session,
    emit: Emit,
    token: str,
    data: dict,
    now: datetime,
    fingerprint: str | None = None,
    respondent: Respondent | None = None,
) -> dict:
    """The answer through a link: whoever holds it may answer, but only a verified one counts in public."""
    survey = tokens.survey_of(session, token, lock=True)
    return record(session, emit, survey, data, now, fingerprint, respondent)


def answer_for_case(
    session: Session,
    emit: Emit,
    tenant: str,
    case_id: str,
    data: dict,
    now: datetime,
    fingerprint: str | None = None,
    respondent: Respondent | None = None,
) -> dict:
    """A signed-in resident answers their case's survey without the link; the same rules as by link.

    With no link as credential, only the case's reporter (by phone) or a confirmed member of
    the household may answer: anyone else would use up the household's one answer (404).
    """
    survey = latest_for_case(session, tenant, case_id, lock=True)
    phone = (respondent or {}).get("phone")
    if not is_verified(respondent) and (not phone or phone != survey.respondent_phone):
        raise NotFound(f"no survey for case {case_id}")
    return record(session, emit, survey, data, now, fingerprint, respondent)


def record(
    session: Session,
    emit: Emit,
    survey: Survey,
    data: dict,
    now: datetime,
    fingerprint: str | None,
    respondent: Respondent | None,
) -> dict:
    """Record the answer once; announce survey.answered, and survey.low_score when low."""
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
    survey.verified = is_verified(respondent)
    survey.verified_phone_hash = (respondent or {}).get("phone_hash") if survey.verified else None
    session.flush()
    changes.after(survey)
    flagged = bursts.flag(session, survey, now, changes)
    changes.apply(session)
    tracing.bind(tenant=survey.tenant, case_id=survey.case_id)
    log.info(
        "survey %s of case %s answered: %s%s%s",
        survey.id,
        survey.case_id,
        survey.score,
        " (verified)" * survey.verified,
        " (burst)" * bool(flagged),
    )
    payload = event_data(survey)
    emit(session, "survey.answered", survey.id, survey.tenant, payload)
    if is_low(survey):
        emit(session, "survey.low_score", survey.id, survey.tenant, payload)
    view = SurveyPageSchema().dump(survey)
    view["questions"] = template
    return view
