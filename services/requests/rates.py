"""What "on time" and "reopened" mean, once, for every table that counts them.

A case is resolved once it has a ``resolved_at``; it was resolved on time when that is no later
than its resolution due time (a case with no due time cannot be late); it was reopened when a
resident or staff reopened it at least once after a resolution (``reopen_count > 0``). Both
rates are shares of the resolved cases. The party branch's league
(:mod:`services.requests.community`) and the company's statistics
(:mod:`services.requests.statistics`) sum these same columns, so their figures cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_

from services.requests.models import Case

RESOLVED = Case.resolved_at.is_not(None)
ON_TIME = and_(RESOLVED, or_(Case.resolution_due_at.is_(None), Case.resolved_at <= Case.resolution_due_at))
REOPENED = and_(RESOLVED, Case.reopen_count > 0)


def counts() -> tuple:
    """The labelled SUMs of a GROUP BY over cases: ``resolved``, ``on_time`` and ``reopened``."""
    return (
        func.sum(case((RESOLVED, 1), else_=0)).label("resolved"),
        func.sum(case((ON_TIME, 1), else_=0)).label("on_time"),
        func.sum(case((REOPENED, 1), else_=0)).label("reopened"),
    )


def ratio(part: int, whole: int) -> float | None:
    """A share rounded to three places; ``None`` when there is nothing to divide by."""
    return round(part / whole, 3) if whole else None


def rates(row: object) -> dict:
    """A grouped row's counts and the two rates taken from them (in Python: both databases round alike)."""
    resolved, on_time, reopened = (int(getattr(row, name) or 0) for name in ("resolved", "on_time", "reopened"))
    return {
        "resolved": resolved,
        "on_time": on_time,
        "reopened": reopened,
        "on_time_rate": ratio(on_time, resolved),
        "reopen_rate": ratio(reopened, resolved),
    }
