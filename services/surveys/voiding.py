"""What a reopen does to the case's surveys, and the one rule for an answer caught in between.

The rule: **an answer to a case that was reopened before the answer arrived is void.** The
requests service reopens a case and says when (``changed_at`` of ``case.reopened``); this
service hears of it a moment later. A resident who answers in that moment rates work the case
no longer stands on, yet the answer was taken (the survey was still open here). So when the
reopen is processed, here and only here, an answer recorded at or after the reopen time is
voided like an unanswered survey, and ``survey.answer_voided`` tells every consumer of its
``survey.answered`` to take back what it did (the case's rating, the company's webhook). The
tallies drop it in the same transaction (a voided survey counts nothing), so statistics and the
league never count it. An answer from before the reopen stands, marked as reopened after it.

The two times come from two services' clocks (kept by NTP); a skew between them moves the
boundary by that much, no more.

Exactly once: the work runs inside the reopen's inbox transaction, and a voided survey is never
voided again, so neither a redelivered nor a later reopen sends a second ``survey.answer_voided``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.fields import parse_utc, utc_text
from services.surveys import tallies
from services.surveys.issuing import Emit, event_data
from services.surveys.models import Survey

log = logging.getLogger(__name__)

#: Why ``survey.answer_voided`` was sent (the payload's ``reason``).
REOPENED_BEFORE_ANSWER = "case_reopened_before_answer"


def answer_is_void(answered_at: datetime | None, reopened_at: datetime) -> bool:
    """An answer given at or after the case's reopen rates a case that was no longer closed."""
    return answered_at is not None and answered_at >= reopened_at


def concerns(closure_reopen_count: int | None, reopen_count: int | None) -> bool:
    """Whether a reopen concerns a survey: only if the reopen came after the survey's closure.

    A case closed with ``reopen_count`` n is next reopened with n + 1. A reopen event delayed
    past the case's next closure must not void that closure's survey or its answer. Unknown
    counts (surveys from before they were kept): the reopen concerns every survey, as it used to.
    """
    return closure_reopen_count is None or reopen_count is None or closure_reopen_count < reopen_count


def reopen_time(event: dict) -> datetime:
    """When the case was reopened (naive UTC): the event's ``changed_at``, else its envelope time.

    Events staged before ``changed_at`` existed carry only the envelope's ``time``, which the
    requests service set in the same transaction as the reopen.
    """
    moment = parse_utc(event["data"].get("changed_at")) or parse_utc(event["time"])
    if moment is None:
        raise ValueError(f"event {event['id']} says nothing of when the case was reopened")
    return moment


def on_case_reopened(
    session: Session,
    emit: Emit,
    tenant: str,
    case_id: str,
    reopened_at: datetime,
    now: datetime,
    reopen_count: int | None = None,
) -> int:
    """Void the case's open surveys and any answer the rule voids; returns how many were voided.

    Only the surveys of closures before this reopen (:func:`concerns`, by ``reopen_count``).

    The rows are locked so an answer being recorded at this moment commits first and is judged
    by the rule, rather than being overwritten as if it were unanswered.
    """
    rows = session.scalars(
        select(Survey)
        .where(Survey.tenant == tenant, Survey.case_id == case_id)
        .order_by(Survey.created_at, Survey.id)
        .with_for_update()
    ).all()
    voided, changes = 0, tallies.Changes()
    for survey in rows:
        if not concerns(survey.closure_reopen_count, reopen_count):
            continue  # issued by a later closure: this reopen is older news
        changes.before(survey)
        if survey.status == "issued":
            survey.status, survey.voided_at = "voided", now
            voided += 1
        elif survey.status == "answered" and answer_is_void(survey.answered_at, reopened_at):
            survey.status, survey.voided_at = "voided", now
            voided += 1
            announce_void(session, emit, survey, reopened_at)
        elif survey.status == "answered" and survey.reopened_at is None:
            survey.reopened_at = reopened_at  # a fair answer, then a reopen: counted as "reopened after"
        changes.after(survey)
    changes.apply(session)
    return voided


def announce_void(session: Session, emit: Emit, survey: Survey, reopened_at: datetime) -> None:
    """Stage ``survey.answer_voided``: the voided answer's ids and score, why, and the two times."""
    payload = event_data(survey) | {"reason": REOPENED_BEFORE_ANSWER, "reopened_at": utc_text(reopened_at)}
    emit(session, "survey.answer_voided", survey.id, survey.tenant, payload)
    tracing.bind(tenant=survey.tenant, case_id=survey.case_id)
    log.info(
        "survey %s of case %s: answer at %s voided, the case was reopened at %s",
        survey.id,
        survey.case_id,
        utc_text(survey.answered_at),
        utc_text(reopened_at),
    )
