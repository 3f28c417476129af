"""The party branch's view across the companies of a community: the league and the dashboard.

League (public): per company and per estate, how many cases were resolved, the share resolved
by their due time (on-time rate) and the share reopened afterwards (reopen rate). A group with
fewer than :data:`MINIMUM_CASES` resolved cases is withheld: too few to judge, and too few to
keep residents unrecognisable. Dashboard (supervisor only): open, overdue and escalated cases
per company now, and cases submitted and closed per week over the last twelve weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from services.common.fields import utc_text
from services.requests import rates
from services.requests.lifecycle import OPEN_STATES
from services.requests.models import Case, Estate
from services.requests.search import overdue_clause

MINIMUM_CASES = 5


def league(session: Session, tenants: list[str], since: datetime) -> dict:
    """On-time and reopen rates per company and per estate, small groups withheld."""
    figures = rates.counts()  # the one definition of on time and reopened (services/requests/rates.py)
    scope = (Case.tenant.in_(tenants), Case.created_at >= since)
    tables: dict[str, list[dict]] = {}
    withheld = 0
    for name, keys in (("companies", (Case.tenant,)), ("estates", (Case.tenant, Case.estate_id))):
        rows = []
        for row in session.execute(select(*keys, *figures).where(*scope).group_by(*keys)):
            counted = rates.rates(row)
            done = counted["resolved"]
            if done < MINIMUM_CASES:
                withheld += 1 if done else 0
                continue
            rows.append(
                {
                    "tenant": row.tenant,
                    "estate_id": getattr(row, "estate_id", None),
                    "resolved": done,
                    "on_time_rate": counted["on_time_rate"],
                    "reopen_rate": counted["reopen_rate"],
                }
            )
        rows.sort(key=lambda r: (-(r["on_time_rate"] or 0), r["reopen_rate"] or 0, r["tenant"], r["estate_id"] or ""))
        tables[name] = rows
    names = dict(session.execute(select(Estate.id, Estate.name).where(Estate.tenant.in_(tenants))).all())
    for row in tables["estates"]:
        row["estate"] = names.get(row["estate_id"])
    return {**tables, "withheld": withheld, "minimum_cases": MINIMUM_CASES, "since": utc_text(since)}


def dashboard(session: Session, tenants: list[str], now: datetime, weeks: int = 12) -> dict:
    """Open, overdue and escalated cases per company; submitted and closed per week."""
    open_ = Case.status.in_(OPEN_STATES)
    overdue = and_(open_, overdue_clause(now))  # the same rule as the case list's ``overdue`` filter
    per_company = [
        {
            "tenant": row.tenant,
            "open": int(row.open or 0),
            "overdue": int(row.overdue or 0),
            "escalated": int(row.escalated or 0),
        }
        for row in session.execute(
            select(
                Case.tenant,
                func.sum(case((open_, 1), else_=0)).label("open"),
                func.sum(case((overdue, 1), else_=0)).label("overdue"),
                func.sum(case((and_(open_, Case.escalation_level > 0), 1), else_=0)).label("escalated"),
            )
            .where(Case.tenant.in_(tenants))
            .group_by(Case.tenant)
            .order_by(Case.tenant)
        )
    ]
    start = week_start(now) - timedelta(weeks=weeks - 1)
    series = [{"week": utc_text(start + timedelta(weeks=i))[:10], "submitted": 0, "closed": 0} for i in range(weeks)]
    for (created,) in session.execute(
        select(Case.created_at).where(Case.tenant.in_(tenants), Case.created_at >= start)
    ):
        series[(created - start).days // 7]["submitted"] += 1
    closed = select(Case.closed_at).where(
        Case.tenant.in_(tenants), Case.closed_at.is_not(None), Case.closed_at >= start
    )
    for (when,) in session.execute(closed):
        series[(when - start).days // 7]["closed"] += 1
    return {"companies": per_company, "weeks": series, "as_of": utc_text(now)}


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 of ``moment``'s week (UTC, as stored)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())
