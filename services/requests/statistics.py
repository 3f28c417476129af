"""A company's case figures per group: cases, resolved, on time, reopened and the two rates.

Grouped by any of estate, category, assignee and month (the Asia/Shanghai month the case was
created in), over a month range and one estate, in one GROUP BY on either database. "On time"
and "reopened" are :mod:`services.requests.rates`'s, the very columns the league sums. Only the
tenant's own cases are read: the tenant is in the WHERE clause, never a parameter of the caller.

The month range is turned into UTC bounds on ``created_at`` (a range the planner can use),
not a filter on the computed month.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from services.common.errors import NotFound
from services.common.fields import SHANGHAI
from services.requests import rates
from services.requests.models import Case, Estate

GROUPS = {"estate": Case.estate_id, "category": Case.category, "assignee": Case.assignee}
KEYS = {"estate": "estate_id", "category": "category", "assignee": "assignee", "month": "month"}


class shanghai_month(FunctionElement):  # noqa: N801 - an SQL function, named as SQL names them
    """``YYYY-MM`` of a naive-UTC timestamp in Asia/Shanghai. China has kept UTC+8 without
    daylight saving since 1991, so adding eight hours is exact and needs no time-zone tables
    (SQLite has none)."""

    type = String()
    inherit_cache = True


@compiles(shanghai_month, "sqlite")
def _sqlite_month(element: shanghai_month, compiler: object, **kw: object) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)}, '+8 hours')"  # type: ignore[attr-defined]


@compiles(shanghai_month, "postgresql")
def _postgresql_month(element: shanghai_month, compiler: object, **kw: object) -> str:
    column = compiler.process(element.clauses, **kw)  # type: ignore[attr-defined]
    return f"to_char({column} + interval '8 hours', 'YYYY-MM')"


def month_start(month: str) -> datetime:
    """The first instant of an Asia/Shanghai ``YYYY-MM``, as naive UTC (how ``created_at`` is stored)."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def for_tenant(session: Session, tenant: str, params: dict) -> list[dict]:
    """The tenant's figures per group, ordered by the groups (an estate of another tenant: 404)."""
    group_by = list(dict.fromkeys(params.get("group_by") or []))
    estate_id = params.get("estate_id")
    if estate_id and session.scalar(select(Estate.id).where(Estate.id == estate_id, Estate.tenant == tenant)) is None:
        raise NotFound(f"estate {estate_id} not found")
    month = shanghai_month(Case.created_at)
    keys = [(month if name == "month" else GROUPS[name]).label(name) for name in group_by]
    stmt = select(*keys, func.count().label("cases"), *rates.counts()).where(Case.tenant == tenant)
    if params.get("from_month"):
        stmt = stmt.where(Case.created_at >= month_start(params["from_month"]))
    if params.get("to_month"):
        stmt = stmt.where(Case.created_at < month_start(next_month(params["to_month"])))
    if estate_id:
        stmt = stmt.where(Case.estate_id == estate_id)
    if keys:
        stmt = stmt.group_by(*keys).order_by(*keys)
    rows = []
    for row in session.execute(stmt):
        if not row.cases:
            continue  # no grouping and no case: no row, as the survey figures do
        named = dict.fromkeys(KEYS.values()) | {KEYS[name]: getattr(row, name) for name in group_by}
        rows.append(named | {"cases": int(row.cases)} | rates.rates(row))
    return rows
