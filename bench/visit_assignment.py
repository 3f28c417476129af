"""The fair-visit rule's read per closure, at a tenant's lifetime of visits.

Every case.closed asks ``visits.candidates`` for each volunteer's load; this times it (median of
several runs) in a private database (SQLite file, or a database ``lxbench_visits`` created next
to the PostgreSQL one named) holding 20 volunteers and N visits spread over two years, 2 % still
open. Before migration 0003 the figure grew with N: at 100,000 visits 1,016 ms on SQLite and
154 ms on PostgreSQL; with its indexes 26 ms and 13 ms (this machine, 2026-11-28, under load).
It now grows only with the last 30 days of visits.

    python -m bench.visit_assignment [--visits N] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics as stats
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from bench.survey_stats import admin_engine
from services.common import migrate
from services.common.db import Store, make_engine, utcnow
from services.volunteers import visits
from services.volunteers.models import Visit, Volunteer

DATABASE = "lxbench_visits"
TENANT = "bench-tenant"
RUNS = 15


def load(store: Store, n: int) -> None:
    now = utcnow().replace(tzinfo=None)
    rng = random.Random(7)
    volunteers = [str(uuid.uuid4()) for _ in range(20)]
    with store.transaction() as session:
        session.execute(
            insert(Volunteer),
            [
                {
                    "id": v,
                    "tenant": TENANT,
                    "name": f"志愿者{i}",
                    "phone": f"1380000{i:04d}",
                    "estate_ids": ["e"],
                    "skills": ["visit"],
                    "active": True,
                    "created_at": now,
                    "availability": [],
                }
                for i, v in enumerate(volunteers)
            ],
        )
        for start in range(0, n, 10_000):
            rows = []
            for k in range(start, min(n, start + 10_000)):
                at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 730))
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "tenant": TENANT,
                        "case_id": str(uuid.uuid4()),
                        "estate_id": "e",
                        "closure_event_id": str(uuid.uuid4()),
                        "volunteer_id": rng.choice(volunteers),
                        "status": "scheduled" if k % 50 == 0 else "completed",
                        "due_at": at + timedelta(days=3),
                        "resident_name": "住户",
                        "resident_phone": "+8613900000000",
                        "resident_household": "1-1-101",
                        "case_title": "回访",
                        "created_at": at,
                        "assigned_at": at,
                    }
                )
            session.execute(insert(Visit), rows)


def measure(url: str, n: int) -> dict:
    migrate.upgrade("volunteers", url)
    store = Store(make_engine(url))
    try:
        load(store, n)
        if store.engine.dialect.name == "postgresql":
            vacuum = create_engine(store.engine.url, isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction
            with vacuum.connect() as conn:
                conn.execute(text("VACUUM ANALYZE visits"))
            vacuum.dispose()
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            with store.read() as session:
                found = visits.candidates(session, TENANT, utcnow())
            times.append((time.perf_counter() - started) * 1000)
        assert len(found) == 20
    finally:
        store.engine.dispose()
    return {"visits": n, "database": store.engine.dialect.name, "candidates_ms": round(stats.median(times), 1)}


def run(database_url: str | None, n: int) -> dict:
    if not database_url or database_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as workdir:
            return measure(f"sqlite:///{Path(workdir) / 'visits.db'}", n)
    admin, url = admin_engine(database_url)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    try:
        return measure(url.set(database=DATABASE).render_as_string(hide_password=False), n)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE}"))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="visit_assignment", description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server to use (default: SQLite)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.database_url, args.visits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
