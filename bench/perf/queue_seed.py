"""A company's two years of cases for the queue benchmark, written straight into the requests database.

Going through the API would take hours for 100,000 cases; the rows are made here with the spread a
real desk has (most cases closed long ago, a recent working set of open ones, some overdue and
escalated, several estates, categories, staff and priorities) and bulk-inserted: ``COPY`` on
PostgreSQL (a multi-row INSERT through pg8000 takes minutes for 200,000 rows), SQLAlchemy Core's
executemany on SQLite. Each case gets the history its status implies (one ``INSERT … SELECT`` from
the cases on both), so the history a case carries is realistic too; and what the service keeps
beside its cases, as it would have written it case by case: the search bigrams and the counts per
status.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from services.common.db import make_engine, utcnow
from services.requests import bigrams, status_counts
from services.requests.models import Case, CaseBigram, CaseEscalation

SPAN = timedelta(days=730)  # two years of cases
RECENT = timedelta(days=21)  # the working set: cases this young may still be open
BATCH = 5_000

CATEGORIES = (("repair", 45), ("complaint", 20), ("consultation", 15), ("suggestion", 15), ("emergency", 5))
PRIORITIES = (("normal", 70), ("high", 15), ("low", 10), ("urgent", 5))
# A recent case's status; an old one is closed, cancelled or merged (a few stay open: the backlog).
RECENT_STATUSES = (
    ("submitted", 10), ("accepted", 8), ("assigned", 12), ("in_progress", 15), ("waiting_resident", 4),
    ("reopened", 2), ("resolved", 14), ("closed", 32), ("cancelled", 3),
)  # fmt: skip
OLD_STATUSES = (("closed", 94), ("cancelled", 3), ("merged", 1), ("in_progress", 1), ("assigned", 1))
STAFF = ("张师傅", "李师傅", "王师傅", "赵师傅", "刘师傅", "陈师傅", "杨师傅", "黄师傅", "周师傅", "吴师傅")
TITLES = (
    "厨房水管漏水", "楼道灯不亮", "电梯困人", "楼上噪音扰民", "垃圾未及时清运", "车位被占用",
    "外墙渗水", "绿化修剪建议", "物业费缴纳咨询", "卫生间天花板漏水", "门禁卡失灵", "小区路面破损",
)  # fmt: skip
DESCRIPTIONS = (
    "请尽快派人查看处理。", "已经持续好几天了，影响正常生活。", "家里有老人，麻烦尽快。",
    "之前报过一次，没有解决。", "下雨后更严重，墙面发霉。", "希望物业加强管理。",
)  # fmt: skip
UNASSIGNED = frozenset({"submitted", "accepted", "reopened", "cancelled"})
RESPONSE_HOURS = {"urgent": 1, "high": 4, "normal": 24, "low": 48}
RESOLUTION_HOURS = {"urgent": 24, "high": 72, "normal": 120, "low": 240}


@dataclass(frozen=True)
class Tenant:
    """A company whose cases are loaded: its id and its estates' ids."""

    tenant: str
    estates: tuple[str, ...]


def weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in table], weights=[weight for _, weight in table])[0]


def case_id(at: datetime, n: int) -> str:
    """A UUIDv7-shaped id from the creation time (as ``services.common.ids.new_id`` makes them), so
    the id order is the time order, as the cursor pages rely on."""
    ms = int(at.timestamp() * 1000)
    head = f"{ms:012x}"
    tail = f"{n:018x}"
    return f"{head[:8]}-{head[8:]}-7{tail[:3]}-8{tail[3:6]}-{tail[6:]}"


def case_rows(tenants: Sequence[Tenant], per_tenant: int, now: datetime, seed: int = 16) -> Iterator[dict]:
    """``per_tenant`` cases for each tenant, interleaved oldest first over :data:`SPAN`."""
    rng = random.Random(seed)
    total = per_tenant * len(tenants)
    start = now - SPAN
    step = SPAN / total
    for n in range(total):
        owner = tenants[n % len(tenants)]
        created = start + step * n
        recent = now - created <= RECENT
        status = weighted(rng, RECENT_STATUSES if recent else OLD_STATUSES)
        priority = weighted(rng, PRIORITIES)
        assignee = None if status in UNASSIGNED else rng.choice(STAFF)
        response_due = created + timedelta(hours=RESPONSE_HOURS[priority])
        resolution_due = created + timedelta(hours=RESOLUTION_HOURS[priority])
        unanswered = status in ("submitted", "reopened")
        late = status not in ("resolved", "closed", "cancelled", "merged") and now > resolution_due
        finished = created + timedelta(hours=rng.uniform(2, RESOLUTION_HOURS[priority] * 1.2))
        escalation = 0
        if late and rng.random() < 0.3 or rng.random() < 0.01:
            escalation = 2 if rng.random() < 0.1 else 1
        yield {
            "id": case_id(created, n),
            "tenant": owner.tenant,
            "estate_id": rng.choice(owner.estates),
            "category": weighted(rng, CATEGORIES),
            "title": rng.choice(TITLES),
            "description": rng.choice(DESCRIPTIONS),
            "channel": rng.choice(("app", "app", "phone", "wechat", "walk_in")),
            "priority": priority,
            "reporter_name": "住户",
            "reporter_phone": f"+86139{n % 100_000_000:08d}",
            "reporter_household": f"{n % 30 + 1}-{n % 4 + 1}-{n % 28 + 1:02d}01",
            "status": status,
            "assignee": assignee,
            "assignee_kind": "staff" if assignee else None,
            "sla_started_at": created,
            "paused_seconds": 0,
            "paused_at": created + timedelta(hours=3) if status == "waiting_resident" else None,
            "response_due_at": response_due,
            "resolution_due_at": resolution_due,
            # Breaches already reported, as the SLA timer leaves them (else it works off a backlog meanwhile).
            "response_breached_at": response_due if unanswered and now > response_due else None,
            "resolution_breached_at": resolution_due if late else None,
            "escalation_level": escalation,
            "rating_verified": False,
            "reopen_count": 1 if status == "reopened" else 0,
            "created_at": created,
            "updated_at": min(finished, now),
            "resolved_at": min(finished, now) if status in ("resolved", "closed") else None,
            "closed_at": min(finished, now) if status == "closed" else None,
        }


# The transitions behind each status, in order; a case gets the first ``depth`` of them.
STEPS = (
    (1, "submit", None, "submitted"),
    (2, "accept", "submitted", "accepted"),
    (3, "assign", "accepted", "assigned"),
    (4, "start", "assigned", "in_progress"),
    (5, "resolve", "in_progress", "resolved"),
    (6, "close", "resolved", "closed"),
)
DEPTH = {
    "submitted": 1, "accepted": 2, "assigned": 3, "in_progress": 4, "waiting_resident": 4,
    "resolved": 5, "closed": 6, "reopened": 6, "cancelled": 1, "merged": 1,
}  # fmt: skip


def history_sql() -> str:
    """Each case's history rows in one ``INSERT … SELECT`` (the same text on PostgreSQL and SQLite)."""
    steps = " UNION ALL ".join(
        f"SELECT {rank} AS rank, '{action}' AS action, {repr(before) if before else 'NULL'} AS from_status,"
        f" '{after}' AS to_status"
        for rank, action, before, after in STEPS
    )
    depth = " ".join(f"WHEN '{status}' THEN {d}" for status, d in DEPTH.items())
    return (
        "INSERT INTO case_history (case_id, action, from_status, to_status, actor, source, at) "
        "SELECT c.id, s.action, s.from_status, s.to_status, 'bench', 'api', c.created_at "
        f"FROM cases c JOIN ({steps}) s ON s.rank <= CASE c.status {depth} ELSE 1 END"
    )


def load(requests_url: str, tenants: Sequence[Tenant], per_tenant: int, now: datetime | None = None) -> dict:
    """Insert the cases, their history and escalations, then refresh the planner's statistics."""
    now = now or utcnow()
    engine = make_engine(requests_url)
    started = time.monotonic()
    escalated = 0
    try:
        with engine.begin() as conn:
            batch: list[dict] = []
            for row in case_rows(tenants, per_tenant, now):
                batch.append(row)
                if len(batch) == BATCH:
                    escalated += _write(conn, batch)
                    batch = []
            if batch:
                escalated += _write(conn, batch)
            history = conn.execute(text(history_sql())).rowcount
            status_counts.rebuild(Session(bind=conn))
    finally:
        engine.dispose()
    analyse(requests_url)
    return {"cases": per_tenant * len(tenants), "history": history, "escalations": escalated,
            "seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def _write(conn, rows: list[dict]) -> int:  # noqa: ANN001 - a SQLAlchemy connection
    pieces = [bit for row in rows for bit in bigrams.rows(row["tenant"], row["id"], row["title"], row["description"])]
    if conn.dialect.name == "postgresql":
        copy(conn, Case.__tablename__, rows)
        copy(conn, CaseBigram.__tablename__, pieces)
    else:
        conn.execute(insert(Case), rows)
        conn.execute(insert(CaseBigram), pieces)
    escalations = [
        {"case_id": row["id"], "level": level, "reason": "超时未处理，吹哨上报", "actor": "system:sla",
         "at": row["resolution_due_at"]}
        for row in rows for level in range(1, row["escalation_level"] + 1)
    ]  # fmt: skip
    if escalations:
        conn.execute(insert(CaseEscalation), escalations)
    return len(escalations)


def copy(conn, table: str, rows: list[dict]) -> None:  # noqa: ANN001 - a SQLAlchemy connection
    """``COPY table FROM STDIN`` in CSV (an empty unquoted field is NULL) through pg8000's stream."""
    columns = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", stream=buffer)


def analyse(url: str) -> None:
    """Fresh planner statistics, as a database that has lived with these rows would have."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("VACUUM ANALYZE cases, case_history, case_escalations, case_bigrams"))
            else:
                conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
