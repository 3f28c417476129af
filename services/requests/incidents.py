"""Estate incidents: a two-day water outage is one incident, not forty cases.

Declaring, updating and resolving are announced (``incident.declared`` / ``incident.updated`` /
``incident.resolved``) so every household is told. Duplicate cases merge into the incident;
when it resolves, every merged case is resolved and closed with it, each ``case.closed``
carrying ``incident_id`` so the surveys service issues one survey per household.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.fields import utc_text
from services.common.ids import new_id
from services.common.pages import page
from services.requests import cases
from services.requests.cases import Emit
from services.requests.models import Case, Incident, IncidentUpdate
from services.requests.schemas import IncidentSchema

log = logging.getLogger(__name__)

INCIDENT = IncidentSchema()


def incident_of(session: Session, tenant: str, incident_id: str) -> Incident:
    incident = session.scalars(select(Incident).where(Incident.id == incident_id, Incident.tenant == tenant)).first()
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def to_dict(session: Session, incident: Incident) -> dict:
    case_ids = session.scalars(select(Case.id).where(Case.incident_id == incident.id).order_by(Case.id)).all()
    return INCIDENT.dump({**{c.name: getattr(incident, c.name) for c in Incident.__table__.columns},
                          "case_ids": list(case_ids), "updates": incident.updates})  # fmt: skip


def event_data(incident: Incident, **extra: object) -> dict:
    return {
        "incident_id": incident.id,
        "estate_id": incident.estate_id,
        "kind": incident.kind,
        "title": incident.title,
        "description": incident.description,
        "expected_end": utc_text(incident.expected_end),
        "severity": incident.severity,
        **extra,
    }


def declare(session: Session, emit: Emit, tenant: str, data: dict, actor: str, now: datetime) -> dict:
    try:
        estate = cases.estate_of(session, tenant, data["estate_id"])
    except NotFound:
        raise ValidationFailed("unknown estate", {"estate_id": ["没有这个小区 (no such estate)"]}) from None
    if data["expected_end"] is not None and data["expected_end"] <= now:
        raise ValidationFailed("expected end in the past", {"expected_end": ["应晚于现在 (must be in the future)"]})
    incident = Incident(
        id=new_id(), tenant=tenant, estate_id=estate.id, kind=data["kind"], title=data["title"],
        description=data["description"], severity=data["severity"], expected_end=data["expected_end"],
        status="declared", declared_by=actor, declared_at=now,
    )  # fmt: skip
    session.add(incident)
    session.flush()
    emit(session, "incident.declared", incident.id, tenant, event_data(incident))
    log.info("incident %s declared for estate %s: %s", incident.id, estate.id, incident.title)
    return to_dict(session, incident)


def add_update(
    session: Session, emit: Emit, tenant: str, incident_id: str, data: dict, actor: str, now: datetime
) -> dict:
    incident = incident_of(session, tenant, incident_id)
    if incident.status != "declared":
        raise Conflict(f"incident {incident_id} is already resolved")
    if data["expected_end"] is not None:
        incident.expected_end = data["expected_end"]
    incident.updates.append(IncidentUpdate(body=data["body"], expected_end=data["expected_end"], actor=actor, at=now))
    session.flush()
    emit(session, "incident.updated", incident.id, tenant, event_data(incident, update=data["body"]))
    return to_dict(session, incident)


def merge(session: Session, emit: Emit, tenant: str, incident_id: str, case_ids: list[str], actor: str) -> dict:
    """Merge duplicate cases of the incident's estate into it; each is marked ``merged``."""
    incident = incident_of(session, tenant, incident_id)
    if incident.status != "declared":
        raise Conflict(f"incident {incident_id} is already resolved")
    for index, case_id in enumerate(dict.fromkeys(case_ids)):
        try:
            case = cases.case_of(session, tenant, case_id, lock=True)
        except NotFound:
            raise ValidationFailed("unknown case", {"case_ids": {index: [f"no case {case_id}"]}}) from None
        if case.incident_id == incident.id:
            continue  # merged already: merging again changes nothing
        if case.estate_id != incident.estate_id:
            raise ValidationFailed("another estate", {"case_ids": {index: ["不是该小区的诉求 (another estate)"]}})
        note = f"并入事件: {incident.title}"
        cases.apply(session, emit, case, "merge", actor, note=note, source="incident", incident_id=incident.id)
    return to_dict(session, incident)


def resolve(session: Session, emit: Emit, tenant: str, incident_id: str, data: dict, actor: str, now: datetime) -> dict:
    """Resolve the incident, then resolve and close every merged case with its resolution.

    The conditional UPDATE lets exactly one of two concurrent resolutions go through.
    """
    incident = incident_of(session, tenant, incident_id)
    done = session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == "declared")
        .values(status="resolved", resolution=data["resolution"], resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(f"incident {incident_id} is already resolved")
    session.refresh(incident)
    merged = session.scalars(
        select(Case).where(Case.incident_id == incident.id, Case.status == "merged").order_by(Case.id)
    ).all()
    for case in merged:
        cases.apply(session, emit, case, "resolve", actor, note=data["resolution"], source="incident", now=now)
        cases.apply(session, emit, case, "close", actor, source="incident", now=now)
    emit(session, "incident.resolved", incident.id, tenant, event_data(incident, resolution=data["resolution"]))
    log.info("incident %s resolved with %d merged cases", incident.id, len(merged))
    return to_dict(session, incident)


def list_incidents(session: Session, tenant: str, query: dict) -> dict:
    found = select(Incident).where(Incident.tenant == tenant)
    if query.get("estate_id"):
        found = found.where(Incident.estate_id == query["estate_id"])
    if query.get("status"):
        found = found.where(Incident.status == query["status"])
    rows, has_more = page(session, found, Incident.id, query["limit"], query.get("starting_after"))
    return {"data": [to_dict(session, incident) for incident in rows], "has_more": has_more}
