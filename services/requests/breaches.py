"""The SLA timer's work: find cases past a due time, report each stage once, escalate.

Every instance of the service runs the scan. Each breach is claimed with a conditional
UPDATE (``… WHERE response_breached_at IS NULL``), so with two instances on one database
exactly one of them reports it; the event and the escalation commit with the claim.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.fields import utc_text
from services.requests import audit, escalation, sla
from services.requests.cases import Emit
from services.requests.models import Case

log = logging.getLogger(__name__)

STAGES = {
    "response": (Case.response_due_at, Case.response_breached_at, sla.AWAITING_RESPONSE),
    "resolution": (Case.resolution_due_at, Case.resolution_breached_at, sla.RESOLUTION_RUNNING),
}
BATCH = 200


def candidates(session: Session, now: datetime) -> list[tuple[str, str]]:
    """(case id, stage) pairs past due and not yet reported."""
    found = []
    for stage, (due, breached, states) in STAGES.items():
        ids = session.scalars(
            select(Case.id).where(Case.status.in_(states), breached.is_(None), due < now).order_by(due).limit(BATCH)
        ).all()
        found += [(case_id, stage) for case_id in ids]
    return found


def claim(session: Session, emit: Emit, case_id: str, stage: str, now: datetime) -> bool:
    """Report one breach if nobody has yet: the conditional UPDATE decides."""
    due, breached, states = STAGES[stage]
    won = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status.in_(states), breached.is_(None), due < now)
        .values({breached.key: now})
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return False
    case = session.get(Case, case_id)
    session.refresh(case)
    before = audit.snapshot(case) | {breached.key: None}
    audit.record(session, case, before, "system:sla", "sla", now)
    level = escalation.escalate(
        session,
        emit,
        case,
        f"超时未{'受理' if stage == 'response' else '办结'} (SLA {stage} breached)",
        "system:sla",
        now,
    )
    emit(session, "case.sla_breached", case.id, case.tenant, {
        "case_id": case.id,
        "estate_id": case.estate_id,
        "stage": stage,
        "due_at": utc_text(getattr(case, due.key)),
        "breached_at": utc_text(now),
        "assignee": case.assignee,
        "escalation_level": level,
    })  # fmt: skip
    log.warning("case %s breached its %s SLA (due %s)", case.id, stage, getattr(case, due.key))
    return True


def scan(db: Any, now: datetime) -> int:
    """One sweep: each breach in its own short transaction. Returns how many this instance reported."""
    with db.read() as session:
        found = candidates(session, now)
    reported = 0
    for case_id, stage in found:
        with db.transaction() as session:
            reported += claim(session, db.emit, case_id, stage, now)
    return reported
