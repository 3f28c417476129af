"""Issuing surveys on case.closed and sending their links when due (a reopen: see voiding.py).

The survey row is created at once when the case closes; its link is announced by
``survey.issued`` at once or, with a tenant delay, by the timer (:func:`send_due_links`)
exactly once: a conditional UPDATE on ``link_sent_at IS NULL`` decides which of several
service instances sends it, and the event is staged in that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from services.common.fields import SHANGHAI, utc_text
from services.common.ids import new_id
from services.surveys import settings, tallies, templates, tokens
from services.surveys.models import Survey
from services.surveys.schemas import SurveyEventSchema
from services.surveys.settings import Timing

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]


def month_of(moment: datetime) -> str:
    """The statistics month of a naive-UTC moment, as people in the estates count months."""
    return moment.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m")


def plan(timing: Timing, now: datetime) -> dict[str, datetime | None]:
    """When the link goes out, when it expires, and when (if ever) the one reminder is due."""
    link_due_at = now + timedelta(minutes=timing.link_delay_minutes)
    expires_at = link_due_at + timedelta(days=timing.expiry_days)
    reminder_due_at = link_due_at + timedelta(hours=timing.reminder_after_hours)
    return {
        "link_due_at": link_due_at,
        "expires_at": expires_at,
        "reminder_due_at": reminder_due_at if reminder_due_at < expires_at else None,
    }


def event_data(survey: Survey, link: str | None = None, reminder: bool = False) -> dict:
    """survey.* payload; ``link`` and ``recipient`` only in the events that send the link."""
    data = {
        "survey_id": survey.id,
        "case_id": survey.case_id,
        "estate_id": survey.estate_id,
        "status": survey.status,
        "score": survey.score,
        "solved": survey.solved,
        "nps": survey.nps,
        "ces": survey.ces,
        "template_version": survey.template_version,
        "flagged_burst": survey.flagged_burst,
        "verified": bool(survey.verified),
        "recipient": None,
        "link": link,
        "expires_at": survey.expires_at.isoformat() + "Z",
        "case_title": survey.case_title,
        "answered_at": utc_text(survey.answered_at),
    }
    if link:
        data["recipient"] = {
            "name": survey.respondent_name,
            "phone": survey.respondent_phone,
            "household": survey.respondent_household,
        }
    if reminder:
        data["reminder"] = True
    return SurveyEventSchema().dump(data)


def link_for(base_url: str, token: str) -> str:
    return f"{base_url}/s/{token}"


def already_surveyed_household(session: Session, tenant: str, incident_id: str, household: str) -> bool:
    """An incident's merged cases share one survey per household (unless it was voided)."""
    return (
        session.scalars(
            select(Survey.id)
            .where(
                Survey.tenant == tenant,
                Survey.incident_id == incident_id,
                Survey.respondent_household == household,
                Survey.status != "voided",
            )
            .limit(1)
        ).first()
        is not None
    )


def hold_household(session: Session, tenant: str, incident_id: str, household: str) -> None:
    """Serialise the check-then-insert for one household of one incident.

    An incident closes its merged cases together, so their ``case.closed`` events are handled
    at the same moment; on PostgreSQL a transaction-scoped advisory lock makes the second wait
    and then see the first one's survey. (SQLite serialises writers on its own.)
    """
    if session.get_bind().dialect.name == "postgresql":
        key = f"survey/{tenant}/{incident_id}/{household}"
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def issue(
    session: Session, emit: Emit, event: dict, base_url: str, now: datetime, default_expiry_days: int = 7
) -> Survey | None:
    """On case.closed: a survey for the reporter, its link sent now or when the tenant's delay ends."""
    data, tenant = event["data"], event["tenant"]
    reporter = data["reporter"]
    incident_id = data.get("incident_id")
    if incident_id:
        hold_household(session, tenant, incident_id, reporter["household"])
    if incident_id and already_surveyed_household(session, tenant, incident_id, reporter["household"]):
        log.info("case %s: household already surveyed for incident %s", data["case_id"], incident_id)
        return None
    timing = settings.of(session, tenant, default_expiry_days)
    survey = Survey(
        id=new_id(),
        tenant=tenant,
        case_id=data["case_id"],
        estate_id=data["estate_id"],
        closure_event_id=event["id"],
        closure_reopen_count=data.get("reopen_count"),
        status="issued",
        case_title=data["title"],
        category=data["category"],
        assignee=data.get("assignee"),
        incident_id=incident_id,
        template_version=templates.current(session, tenant)["version"],
        month=month_of(now),
        respondent_name=reporter["name"],
        respondent_phone=reporter["phone"],
        respondent_household=reporter["household"],
        flagged_burst=False,
        verified=False,
        created_at=now,
        **plan(timing, now),
    )
    session.add(survey)
    session.flush()
    if survey.link_due_at <= now:
        survey.link_sent_at = now
        announce(session, emit, survey, base_url, now)
        changes = tallies.Changes()
        changes.after(survey)
        changes.apply(session)
    log.info("survey %s issued for case %s, link due %s", survey.id, survey.case_id, survey.link_due_at)  # no token
    return survey


def announce(
    session: Session, emit: Emit, survey: Survey, base_url: str, now: datetime, reminder: bool = False
) -> None:
    """Mint a token and stage the event carrying the link (survey.issued or survey.reminder_due)."""
    token = tokens.mint(session, survey.id, "reminder" if reminder else "issued", now)
    kind = "survey.reminder_due" if reminder else "survey.issued"
    emit(session, kind, survey.id, survey.tenant, event_data(survey, link_for(base_url, token), reminder))


def send_due_links(session: Session, emit: Emit, base_url: str, now: datetime, limit: int = 200) -> int:
    """Timer: announce the links whose delay has passed; each exactly once across instances."""
    due = session.scalars(
        select(Survey)
        .where(
            Survey.status == "issued",
            Survey.link_due_at <= now,
            Survey.link_sent_at.is_(None),
            Survey.expires_at > now,
        )
        .order_by(Survey.link_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent, changes = 0, tallies.Changes()
    for survey in due:
        claimed = session.execute(
            update(Survey)
            .where(Survey.id == survey.id, Survey.status == "issued", Survey.link_sent_at.is_(None))
            .values(link_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue  # another instance sent it, or the case was reopened meanwhile
        session.refresh(survey)
        announce(session, emit, survey, base_url, now)
        changes.after(survey)  # an unsent survey counted nothing: all of it is new
        sent += 1
    changes.apply(session)
    return sent
