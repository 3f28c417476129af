"""Case operations: submit, transition, reopen, rate. Plain functions over a session.

``emit(session, type, subject, tenant, data)`` stages an event in the same transaction;
tests pass a list-appending fake, the service passes its outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.common.pages import page
from services.requests import lifecycle
from services.requests.models import Case, CaseHistory, Estate
from services.requests.schemas import CaseEventSchema, CaseSchema, EstateSchema

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]

# Case events and who should hear of them (DESIGN.md: event contract).
STATUS_EVENTS = {"closed": "case.closed", "reopened": "case.reopened"}


def create_estate(session: Session, tenant: str, data: dict) -> dict:
    estate = Estate(id=new_id(), tenant=tenant, **data)
    session.add(estate)
    session.flush()
    return EstateSchema().dump(estate)


def list_estates(session: Session, tenant: str) -> list[dict]:
    rows = session.scalars(select(Estate).where(Estate.tenant == tenant).order_by(Estate.id))
    return EstateSchema(many=True).dump(rows)


def estate_of(session: Session, tenant: str, estate_id: str) -> Estate:
    estate = session.get(Estate, estate_id)
    if estate is None or estate.tenant != tenant:
        raise NotFound(f"estate {estate_id} not found")
    return estate


def case_of(session: Session, tenant: str, case_id: str, lock: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id, Case.tenant == tenant)
    if lock:
        query = query.with_for_update()
    case = session.scalars(query).first()
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def to_dict(case: Case) -> dict:
    view = CaseSchema().dump(
        {
            **{c.name: getattr(case, c.name) for c in Case.__table__.columns},
            "reporter": {
                "name": case.reporter_name,
                "phone": case.reporter_phone,
                "household": case.reporter_household,
            },
            "allowed_actions": lifecycle.allowed_actions(case.status),
            "history": case.history,
        }
    )
    return view


def event_data(case: Case, previous: str | None, action: str | None, note: str | None, source: str | None) -> dict:
    return CaseEventSchema().dump(
        {
            "case_id": case.id,
            "estate_id": case.estate_id,
            "category": case.category,
            "title": case.title,
            "status": case.status,
            "previous_status": previous,
            "action": action,
            "assignee": case.assignee,
            "reporter": {
                "name": case.reporter_name,
                "phone": case.reporter_phone,
                "household": case.reporter_household,
            },
            "note": note,
            "source": source,
            "reopen_count": case.reopen_count,
        }
    )


def submit(session: Session, emit: Emit, tenant: str, data: dict, actor: str) -> dict:
    """Record a new case from a resident; its estate must be the tenant's own."""
    try:
        estate = estate_of(session, tenant, data["estate_id"])
    except NotFound:
        raise ValidationFailed("unknown estate", {"estate_id": ["没有这个小区 (no such estate)"]}) from None
    reporter = data["reporter"]
    now = utcnow()
    case = Case(
        id=new_id(),
        tenant=tenant,
        estate_id=estate.id,
        category=data["category"],
        title=data["title"],
        description=data["description"],
        channel=data["channel"],
        priority=data["priority"],
        reporter_name=reporter["name"],
        reporter_phone=reporter["phone"],
        reporter_household=reporter["household"],
        status="submitted",
        reopen_count=0,
        created_at=now,
        updated_at=now,
    )
    case.history.append(
        CaseHistory(action="submit", from_status=None, to_status="submitted", actor=actor, source="api", at=now)
    )
    session.add(case)
    session.flush()
    emit(session, "case.submitted", case.id, tenant, event_data(case, None, "submit", None, "api"))
    tracing.bind(tenant=tenant, case_id=case.id)
    log.info("case %s submitted (%s, estate %s)", case.id, case.category, case.estate_id)
    return to_dict(case)


def transition(
    session: Session,
    emit: Emit,
    tenant: str,
    case_id: str,
    action: str,
    actor: str,
    *,
    note: str | None = None,
    assignee: str | None = None,
    source: str = "api",
) -> dict:
    """Move a case along the state machine, keep the history, announce it."""
    case = case_of(session, tenant, case_id, lock=True)
    apply(session, emit, case, action, actor, note=note, assignee=assignee, source=source)
    return to_dict(case)


def apply(
    session: Session,
    emit: Emit,
    case: Case,
    action: str,
    actor: str,
    *,
    note: str | None = None,
    assignee: str | None = None,
    source: str = "api",
) -> None:
    previous = case.status
    try:
        target = lifecycle.next_state(previous, action, assignee or (case.assignee if action != "assign" else None))
    except lifecycle.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    now = utcnow()
    if action == "reopen" and not note:
        raise ValidationFailed("a reopen needs a reason", {"note": ["重新打开需要说明原因 (reason required)"]})
    if assignee and action == "assign":
        case.assignee = assignee
    case.status = target
    case.updated_at = now
    if target == "resolved":
        case.resolved_at = now
    elif target == "closed":
        case.closed_at = now
    elif target == "reopened":
        case.reopen_count += 1
    case.history.append(
        CaseHistory(
            action=action, from_status=previous, to_status=target, actor=actor, source=source, note=note, at=now
        )
    )
    session.flush()
    tracing.bind(tenant=case.tenant, case_id=case.id)
    log.info("case %s: %s → %s (%s by %s)", case.id, previous, target, action, actor)
    data = event_data(case, previous, action, note, source)
    emit(session, "case.status_changed", case.id, case.tenant, data)
    if action == "assign":
        emit(session, "case.assigned", case.id, case.tenant, data)
    if target in STATUS_EVENTS:
        emit(session, STATUS_EVENTS[target], case.id, case.tenant, data)


def reopen_on_feedback(session: Session, emit: Emit, tenant: str, case_id: str, source: str, reason: str) -> bool:
    """Reopen after an unsatisfied visit or a low score; a case not resolved/closed stays."""
    try:
        case = case_of(session, tenant, case_id, lock=True)
    except NotFound:
        return False
    if case.status not in lifecycle.TRANSITIONS["reopen"].sources:
        return False
    apply(session, emit, case, "reopen", f"system:{source}", note=reason, source=source)
    return True


def record_rating(session: Session, tenant: str, case_id: str, score: int) -> bool:
    try:
        case = case_of(session, tenant, case_id, lock=True)
    except NotFound:
        return False
    case.rating = score
    case.updated_at = utcnow()
    return True


def list_cases(session: Session, tenant: str, query: dict) -> dict:
    select_cases = select(Case).where(Case.tenant == tenant)
    if query.get("status"):
        select_cases = select_cases.where(Case.status == query["status"])
    if query.get("estate_id"):
        select_cases = select_cases.where(Case.estate_id == query["estate_id"])
    rows, has_more = page(session, select_cases, Case.id, query["limit"], query.get("starting_after"))
    return {"data": [to_dict(case) for case in rows], "has_more": has_more}
