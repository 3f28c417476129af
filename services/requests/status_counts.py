"""How many of a tenant's cases are in each status, kept in the same transaction as every change.

The queue shows the company's cases per status on every page; counting them took a scan of the
company's cases (100,000 at issue 16's size: 20–40 ms alone, 120–190 ms under the shared
machine's load). Every change of a case's status passes :func:`services.requests.audit.record`,
which calls :func:`moved` here; the moves of a transaction are netted in the session and written
when it commits (:func:`apply`), in key order, as UPSERTs — so the counter rows are locked last
and briefly, always in the same order (two transactions never deadlock on them, and a case lock
is never awaited while a counter row is held).

:func:`recount` is the definition (one GROUP BY over the cases): tests hold the running counters
to it, and :func:`rebuild` repairs them from it (and fills them after a bulk load).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.requests import lifecycle
from services.requests.models import Case, CaseStatusCount

PENDING = "case_status_moves"  # the session.info key of a transaction's netted moves


def moved(session: Session, tenant: str, before: str | None, after: str | None) -> None:
    """One case left ``before`` (None: it is new) for ``after``; written at commit."""
    if before == after:
        return
    pending: Counter = session.info.setdefault(PENDING, Counter())
    if before is not None:
        pending[(tenant, before)] -= 1
    if after is not None:
        pending[(tenant, after)] += 1


def netted(moves: Counter) -> list[tuple[tuple[str, str], int]]:
    """The non-zero deltas in key order (the lock order of :func:`apply`)."""
    return [(key, delta) for key, delta in sorted(moves.items()) if delta]


def apply(session: Session) -> None:
    """Write the transaction's netted moves (the session's ``before_commit``)."""
    moves = session.info.pop(PENDING, None)
    for (tenant, status), delta in netted(moves or Counter()):
        add(session, tenant, status, delta)


def add(session: Session, tenant: str, status: str, delta: int) -> None:
    """``count += delta`` for (tenant, status), creating the row if needed (atomic on both databases)."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = CaseStatusCount.__table__
    stmt = module.insert(table).values(tenant=tenant, status=status, count=delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant", "status"], set_={"count": table.c.count + stmt.excluded.count}
    )
    session.execute(stmt)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    if session.info.get(PENDING):
        apply(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    """Moves of a transaction rolled back (or closed unfinished) are never written later."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def by_status(session: Session, tenants: list[str]) -> dict[str, int]:
    """Every state with the tenants' running counts (zero included)."""
    counts = dict.fromkeys(lifecycle.STATES, 0)
    rows = session.execute(
        select(CaseStatusCount.status, func.sum(CaseStatusCount.count))
        .where(CaseStatusCount.tenant.in_(tenants))
        .group_by(CaseStatusCount.status)
    )
    counts.update({status: int(count) for status, count in rows})
    return counts


def stored(session: Session, tenant: str | None = None) -> dict[tuple[str, str], int]:
    """The running counters, without zeros (what a recount is compared with)."""
    query = select(CaseStatusCount)
    if tenant is not None:
        query = query.where(CaseStatusCount.tenant == tenant)
    return {(row.tenant, row.status): row.count for row in session.scalars(query) if row.count}


def recount(session: Session, tenant: str | None = None) -> dict[tuple[str, str], int]:
    """The counts straight from the cases: what the running counters must equal."""
    query = select(Case.tenant, Case.status, func.count()).group_by(Case.tenant, Case.status)
    if tenant is not None:
        query = query.where(Case.tenant == tenant)
    return {(row[0], row[1]): row[2] for row in session.execute(query)}


def rebuild(session: Session, tenant: str | None = None) -> int:
    """Replace the counters by a recount; returns how many rows."""
    wipe = delete(CaseStatusCount)
    if tenant is not None:
        wipe = wipe.where(CaseStatusCount.tenant == tenant)
    session.execute(wipe)
    counted = recount(session, tenant)
    if counted:
        session.execute(
            CaseStatusCount.__table__.insert(),
            [{"tenant": t, "status": s, "count": n} for (t, s), n in counted.items()],
        )
    return len(counted)
