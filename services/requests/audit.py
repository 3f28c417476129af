"""The audit trail: every change of a case's fields (status included), before and after.

Callers take a :func:`snapshot` before changing a case and :func:`record` after; only the
fields that differ are written. Rows are appended, never updated or deleted.

Every change of a case passes :func:`record` (its creation too, from a snapshot of nothing), so
what the queue keeps beside the cases is kept here, in the same transaction: the counts per
status (:mod:`services.requests.status_counts`) and the search bigrams (:mod:`services.requests.bigrams`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.fields import utc_text
from services.requests import bigrams, status_counts
from services.requests.models import Case, CaseChange

AUDITED = (
    "status",
    "category",
    "title",
    "description",
    "priority",
    "assignee",
    "assignee_kind",
    "incident_id",
    "response_due_at",
    "resolution_due_at",
    "response_breached_at",
    "resolution_breached_at",
    "escalation_level",
    "reopen_count",
    "rating",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return utc_text(value)
    return str(value)


def snapshot(case: Case) -> dict[str, str | None]:
    return {name: _text(getattr(case, name)) for name in AUDITED}


def record(
    session: Session, case: Case, before: dict[str, str | None], actor: str, source: str, at: datetime
) -> list[str]:
    """Write one row per changed field; returns the names of the fields that changed."""
    after = snapshot(case)
    changed = [name for name in AUDITED if before.get(name) != after[name]]
    if "status" in changed:
        status_counts.moved(session, case.tenant, before.get("status"), case.status)
    if "title" in changed or "description" in changed:
        bigrams.refresh(session, case)
    for name in changed:
        session.add(
            CaseChange(
                case_id=case.id,
                field=name,
                before=before.get(name),
                after=after[name],
                actor=actor,
                source=source,
                at=at,
            )
        )
    return changed


def record_value(
    session: Session,
    case: Case,
    field: str,
    before: str | None,
    after: str | None,
    actor: str,
    source: str,
    at: datetime,
) -> bool:
    """One change of something that is not a column of the case (its photos); nothing when equal."""
    if before == after:
        return False
    session.add(CaseChange(case_id=case.id, field=field, before=before, after=after, actor=actor, source=source, at=at))
    return True


def trail(session: Session, case_id: str) -> list[dict]:
    rows = session.scalars(select(CaseChange).where(CaseChange.case_id == case_id).order_by(CaseChange.id))
    return [
        {
            "field": row.field,
            "before": row.before,
            "after": row.after,
            "actor": row.actor,
            "source": row.source,
            "at": utc_text(row.at),
        }
        for row in rows
    ]
