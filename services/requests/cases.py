"""Case operations: submit, transition, reopen, edit (ratings: ratings.py). Plain functions over a session.

``emit(session, type, subject, tenant, data)`` stages an event in the same transaction;
tests pass a list-appending fake, the service passes its outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import tracing
from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, Stale, ValidationFailed
from services.common.fields import utc_text
from services.common.ids import new_id
from services.requests import audit, categories, escalation, lifecycle, sla
from services.requests import photos as case_photos
from services.requests.models import Case, CaseHistory, Estate
from services.requests.schemas import CaseEventSchema, CaseSchema, EstateSchema

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]

# Case events and who should hear of them (DESIGN.md: event contract).
STATUS_EVENTS = {"closed": "case.closed", "reopened": "case.reopened"}
ASSIGN_ACTIONS = frozenset({"assign", "reassign"})
#: The submission's note when the reporter is not in the community's register for the household
#: they gave (the resident pages let them report anyway): staff see it in the history.
UNCONFIRMED_HOUSEHOLD = "门牌为业主自填，尚未经社区住户名册确认 (household as given, not confirmed by the register)"
#: A resident may reopen a closed case for this long after its closure.
REOPEN_WINDOW = timedelta(days=14)
#: Sources bound by the reopen window (feedback from a visit or a survey is not).
WINDOWED_SOURCES = frozenset({"api", "resident", "staff"})

# Built once: a fresh schema (and its nested history schema) per case cost ~1 ms, more than
# the dump itself; a list page of 20 cases spent most of its time here (`make bench` profile).
CASE_VIEW = CaseSchema()
# A row of a queue: the case without its history, escalations and photos, which a list of cases
# does not show (loading them was most of the workbench queue's time in the requests service).
BRIEF = ("history", "escalations", "photo_count")
CASE_BRIEF = CaseSchema(exclude=BRIEF)
CASE_EVENT = CaseEventSchema()


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


def case_of(session: Session, tenant: str | list[str], case_id: str, lock: bool = False) -> Case:
    """The case if it belongs to ``tenant`` (or, for a supervisor, to one of the tenants)."""
    tenants = [tenant] if isinstance(tenant, str) else list(tenant)
    query = select(Case).where(Case.id == case_id, Case.tenant.in_(tenants))
    if lock:
        query = query.with_for_update()
    case = session.scalars(query).first()
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def clock_of(case: Case) -> sla.Clock | None:
    if case.response_due_at is None or case.resolution_due_at is None:
        return None  # a case from before SLA policies
    return sla.Clock(
        case.status,
        case.sla_started_at or case.created_at,
        case.paused_seconds or 0,
        case.paused_at,
        case.response_due_at,
        case.resolution_due_at,
        case.response_breached_at,
        case.resolution_breached_at,
    )


def to_dict(case: Case, now: datetime | None = None, brief: bool = False) -> dict:
    """The case as the API shows it; ``brief``: without its history, escalations and photo count."""
    clock = clock_of(case)
    stage, due = sla.running(clock) if clock else (None, None)
    more = {} if brief else {
        "history": case.history, "escalations": case.escalations, "photo_count": len(case.photos),
    }  # fmt: skip
    view = (CASE_BRIEF if brief else CASE_VIEW).dump(
        {
            **{c.name: getattr(case, c.name) for c in Case.__table__.columns},
            "reporter": {
                "name": case.reporter_name,
                "phone": case.reporter_phone,
                "household": case.reporter_household,
            },
            "sla_paused": case.paused_at is not None,
            "overdue": bool(clock and sla.overdue(clock, now or utcnow())),
            "allowed_actions": lifecycle.allowed_actions(case.status),
            "allowed_actions_detail": lifecycle.offered(case.status),
            "sla_stage": stage,
            "sla_due_at": due,
            **more,
        }
    )
    return view


def event_data(case: Case, previous: str | None, action: str | None, note: str | None, source: str | None) -> dict:
    return CASE_EVENT.dump(
        {
            "case_id": case.id,
            "estate_id": case.estate_id,
            "category": case.category,
            "title": case.title,
            "status": case.status,
            "previous_status": previous,
            "action": action,
            "assignee": case.assignee,
            "assignee_kind": case.assignee_kind,
            "reporter": {
                "name": case.reporter_name,
                "phone": case.reporter_phone,
                "household": case.reporter_household,
            },
            "note": note,
            "source": source,
            "reopen_count": case.reopen_count,
            "incident_id": case.incident_id,
            "escalation_level": case.escalation_level or 0,
            "changed_at": case.updated_at,
        }
    )


def policy_of(session: Session, case: Case) -> sla.Policy:
    category = categories.effective(session, case.tenant).get(case.category)
    if category is None:  # a category since removed from the defaults: the gentlest default
        category = categories.DEFAULT_CATEGORIES["consultation"]
    return category.policy(case.priority)


def restart_clock(session: Session, case: Case, now: datetime) -> None:
    """Start the SLA clocks afresh (at submission and on reopen)."""
    case.sla_started_at = now
    case.paused_seconds = 0
    case.paused_at = None
    case.response_breached_at = None
    case.resolution_breached_at = None
    case.response_due_at, case.resolution_due_at = sla.due_times(now, policy_of(session, case))


def recompute_due(session: Session, case: Case) -> None:
    if case.sla_started_at is None:
        return
    case.response_due_at, case.resolution_due_at = sla.due_times(
        case.sla_started_at, policy_of(session, case), case.paused_seconds or 0
    )


def submit(
    session: Session,
    emit: Emit,
    tenant: str,
    data: dict,
    actor: str,
    now: datetime | None = None,
    photos: list[dict] | None = None,
) -> dict:
    """Record a new case from a resident; its estate must be the tenant's own.

    ``photos``: records of photos the gateway has already stored, kept with the case in this
    same transaction (so a case never lacks the photos it was submitted with).
    """
    try:
        estate = estate_of(session, tenant, data["estate_id"])
    except NotFound:
        raise ValidationFailed("unknown estate", {"estate_id": ["没有这个小区 (no such estate)"]}) from None
    category = categories.effective(session, tenant).get(data["category"])
    if category is None or not category.active:
        raise ValidationFailed("unknown category", {"category": ["没有这个类别 (no such category)"]})
    reporter = data["reporter"]
    now = now or utcnow()
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
        escalation_level=0,
        created_at=now,
        updated_at=now,
    )
    restart_clock(session, case, now)
    case.history.append(
        CaseHistory(
            action="submit",
            from_status=None,
            to_status="submitted",
            actor=actor,
            source="api",
            note=UNCONFIRMED_HOUSEHOLD if data.get("household_confirmed") is False else None,
            at=now,
        )
    )
    session.add(case)
    audit.record(session, case, dict.fromkeys(audit.AUDITED), actor, "api", now)
    session.flush()
    if photos:
        case_photos.attach(session, case, photos, actor, now)
    emit(session, "case.submitted", case.id, tenant, event_data(case, None, "submit", None, "api"))
    tracing.bind(tenant=tenant, case_id=case.id)
    log.info("case %s submitted (%s, estate %s)", case.id, case.category, case.estate_id)
    if category.team:
        note = f"按类别自动派给 {category.team} (auto-assigned by category)"
        apply(session, emit, case, "accept", "system:auto-assign", source="auto", now=now)
        apply(session, emit, case, "assign", "system:auto-assign", note=note, assignee=category.team,
              assignee_kind="team", source="auto", now=now)  # fmt: skip
    return to_dict(case, now)


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
    assignee_kind: str | None = None,
    source: str = "api",
    now: datetime | None = None,
    seen_updated_at: datetime | None = None,
) -> dict:
    """Move a case along the state machine, keep the history, announce it.

    ``seen_updated_at``: the case's ``updated_at`` as the caller last read it (a form's hidden
    field); when the case has changed since, :class:`Stale` and nothing changes. Checked under the
    row lock, so two people pressing at once cannot both act on what only one of them saw.
    """
    case = case_of(session, tenant, case_id, lock=True)
    if seen_updated_at is not None and case.updated_at != seen_updated_at:
        raise Stale(f"case {case_id} has changed since it was read (updated {utc_text(case.updated_at)})")
    apply(
        session, emit, case, action, actor, note=note, assignee=assignee, assignee_kind=assignee_kind,
        source=source, now=now,
    )  # fmt: skip
    return to_dict(case, now)


def apply(
    session: Session,
    emit: Emit,
    case: Case,
    action: str,
    actor: str,
    *,
    note: str | None = None,
    assignee: str | None = None,
    assignee_kind: str | None = None,
    source: str = "api",
    now: datetime | None = None,
    incident_id: str | None = None,
) -> None:
    previous = case.status
    now = now or utcnow()
    try:
        target = lifecycle.next_state(
            previous, action, assignee if action in ASSIGN_ACTIONS else (assignee or case.assignee), note
        )
    except lifecycle.MissingReason as exc:
        raise ValidationFailed(str(exc), {"note": ["需要说明原因 (a reason is required)"]}) from None
    except lifecycle.IllegalTransition as exc:
        raise Conflict(str(exc)) from None
    if (
        action == "reopen"
        and previous == "closed"
        and source in WINDOWED_SOURCES
        and case.closed_at is not None
        and now - case.closed_at > REOPEN_WINDOW
    ):
        raise Conflict("a case can be reopened within 14 days of its closure; please submit a new case")
    before = audit.snapshot(case)
    if action in ASSIGN_ACTIONS:
        case.assignee = assignee
        case.assignee_kind = assignee_kind or "staff"
    elif action == "merge":
        case.incident_id = incident_id
    elif action == "hand_back":
        case.assignee = None
        case.assignee_kind = None
    elif action == "wait_resident":
        case.paused_at = now
    elif action == "resume":
        case.paused_seconds = sla.paused_seconds_after_resume(case.paused_seconds or 0, case.paused_at, now)
        case.paused_at = None
        recompute_due(session, case)
    case.status = target
    case.updated_at = now
    if target == "resolved":
        case.resolved_at = now
    elif target == "closed":
        case.closed_at = now
    elif target == "reopened":
        case.reopen_count += 1
        restart_clock(session, case, now)  # back to its last assignee, on a fresh clock
    case.history.append(
        CaseHistory(
            action=action, from_status=previous, to_status=target, actor=actor, source=source, note=note, at=now
        )
    )
    audit.record(session, case, before, actor, source, now)
    session.flush()
    tracing.bind(tenant=case.tenant, case_id=case.id)
    log.info("case %s: %s → %s (%s by %s)", case.id, previous, target, action, actor)
    if target == "reopened" and (reason := escalation.reopen_reason(case.reopen_count)):
        escalation.escalate(session, emit, case, reason, f"system:{source}", now)
    data = event_data(case, previous, action, note, source)
    emit(session, "case.status_changed", case.id, case.tenant, data)
    if action in ASSIGN_ACTIONS:
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


def low_score(session: Session, emit: Emit, tenant: str, case_id: str, score: int) -> None:
    """A low survey score reopens the case and escalates it to the supervisor."""
    reason = f"满意度低分 {score} 分"
    reopen_on_feedback(session, emit, tenant, case_id, "survey", reason)
    try:
        case = case_of(session, tenant, case_id, lock=True)
    except NotFound:
        return
    escalation.escalate(session, emit, case, reason, "system:survey", utcnow())


def edit(session: Session, tenant: str, case_id: str, data: dict, actor: str, now: datetime | None = None) -> dict:
    """Correct a case's title, description, category or priority; the SLA follows the new policy."""
    case = case_of(session, tenant, case_id, lock=True)
    now = now or utcnow()
    if case.status in ("closed", "cancelled", "merged"):
        raise Conflict(f"a {case.status} case cannot be edited")
    if "category" in data:
        category = categories.effective(session, tenant).get(data["category"])
        if category is None or not category.active:
            raise ValidationFailed("unknown category", {"category": ["没有这个类别 (no such category)"]})
    before = audit.snapshot(case)
    for name in ("title", "description", "category", "priority"):
        if name in data:
            setattr(case, name, data[name])
    if "category" in data or "priority" in data:
        recompute_due(session, case)
    if audit.record(session, case, before, actor, "api", now):
        case.updated_at = now
    session.flush()
    return to_dict(case, now)
