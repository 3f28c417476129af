"""Escalation (吹哨): a case that breached its SLA, was reopened twice or scored low goes up to
the community party branch supervisor. Each escalation raises the level by one and is kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.requests import audit
from services.requests.models import Case, CaseEscalation

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]

#: From this many reopens on, each reopen escalates.
REOPENS_TO_ESCALATE = 2
#: A survey score at or below this escalates (surveys' low-score threshold is the same).
LOW_SCORE = 2


def escalate(session: Session, emit: Emit, case: Case, reason: str, actor: str, now: datetime) -> int:
    """Raise the case one level, keep why, tell the supervisor (``case.escalated``)."""
    before = audit.snapshot(case)
    case.escalation_level = (case.escalation_level or 0) + 1
    case.updated_at = now
    case.escalations.append(CaseEscalation(level=case.escalation_level, reason=reason[:200], actor=actor, at=now))
    audit.record(session, case, before, actor, "escalation", now)
    session.flush()
    emit(
        session,
        "case.escalated",
        case.id,
        case.tenant,
        {
            "case_id": case.id,
            "estate_id": case.estate_id,
            "title": case.title,
            "level": case.escalation_level,
            "reason": reason,
        },
    )
    log.info("case %s escalated to level %d: %s", case.id, case.escalation_level, reason)
    return case.escalation_level


def reopen_reason(reopen_count: int) -> str | None:
    """Why a reopen escalates, or None when it does not."""
    if reopen_count >= REOPENS_TO_ESCALATE:
        return f"第{reopen_count}次重新打开 (reopened {reopen_count} times)"
    return None
