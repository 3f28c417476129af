"""``lianxin cases export``: a tenant's cases as CSV, for its own records and spreadsheets.

Reporter contacts are left out unless asked for (``with_contacts``): an export travels further
than the database, and most uses (monthly reports, audits) do not need them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.fields import utc_text
from services.requests.models import Case, Estate

COLUMNS = (
    "id",
    "estate",
    "category",
    "priority",
    "status",
    "title",
    "assignee",
    "rating",
    "reopen_count",
    "created_at",
    "resolved_at",
    "closed_at",
)
CONTACT_COLUMNS = ("reporter_name", "reporter_phone", "reporter_household")


def rows(session: Session, tenant: str, since: datetime, with_contacts: bool = False) -> Iterator[dict]:
    """The tenant's cases created at or after ``since`` (naive UTC), oldest first."""
    estates = dict(session.execute(select(Estate.id, Estate.name).where(Estate.tenant == tenant)).all())
    query = select(Case).where(Case.tenant == tenant, Case.created_at >= since).order_by(Case.id)
    for case in session.scalars(query).yield_per(500):
        row = {
            "id": case.id,
            "estate": estates.get(case.estate_id, case.estate_id),
            "category": case.category,
            "priority": case.priority,
            "status": case.status,
            "title": case.title,
            "assignee": case.assignee or "",
            "rating": "" if case.rating is None else case.rating,
            "reopen_count": case.reopen_count,
            "created_at": utc_text(case.created_at),
            "resolved_at": utc_text(case.resolved_at) or "",
            "closed_at": utc_text(case.closed_at) or "",
        }
        if with_contacts:
            row |= {
                "reporter_name": case.reporter_name,
                "reporter_phone": case.reporter_phone,
                "reporter_household": case.reporter_household,
            }
        yield row


def to_csv(records: Iterator[dict], with_contacts: bool = False) -> Iterator[str]:
    """CSV text in chunks, header first; cells that a spreadsheet would run as a formula are quoted with '."""
    columns = COLUMNS + (CONTACT_COLUMNS if with_contacts else ())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, quoting=csv.QUOTE_ALL)  # a ; inside never splits a cell
    writer.writeheader()
    for record in records:
        writer.writerow({k: defuse(v) for k, v in record.items()})
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# What a spreadsheet may run as a formula when a cell starts with it: the ASCII signs, their
# full-width forms (a Chinese input method types ＝ and Excel/WPS evaluate it), tab and CR.
FORMULA_START = frozenset("=+-@\t\r\n＝＋－＠")
# Spreadsheets skip these before looking for a formula sign (or split on them: ; is the list
# separator of many locales), so " =1+1" and ";=1+1" are as dangerous as "=1+1".
SKIPPED = " \u3000;,"


def defuse(value: object) -> object:
    """Guard against CSV injection: a cell a spreadsheet would evaluate is prefixed with ' (kept as text)."""
    if isinstance(value, str) and value.lstrip(SKIPPED)[:1] in FORMULA_START and value.lstrip(SKIPPED):
        return "'" + value
    return value
