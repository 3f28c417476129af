"""Survey statistics over a million answers in PostgreSQL: how long the SQL aggregates take.

``run(database_url)`` creates a private database (``lxbench_stats``) next to the one named,
applies the surveys migrations, bulk-loads the answered surveys of one tenant with
``INSERT … SELECT FROM generate_series`` (plus 10 % unanswered ones and a second, small
tenant), rebuilds the running tallies from them (what the service keeps current answer by
answer), VACUUM ANALYZEs, then times each statistics query the API runs (median of several
runs, through the same code as the service) and drops the database.

``stats_1m_ms`` is the slowest of those medians: GROUP BY over ``survey_tallies`` (primary key
from the tenant, ``ix_survey_tallies_tenant_month``). For comparison, ``recount_ms`` is the
same figures straight from the million surveys (a full GROUP BY over ``surveys``).

    python -m bench.survey_stats [--answers N] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics as stats
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.common import migrate
from services.common.db import Store, make_engine
from services.surveys import statistics, tallies
from services.surveys.models import Survey

DATABASE = "lxbench_stats"
TENANT = "bench-tenant"
RUNS = 7

QUERIES: dict[str, tuple[str, dict]] = {
    "tenant_total": ("tenant", {}),
    "tenant_by_estate_month": ("tenant", {"group_by": ["estate", "month"]}),
    "tenant_by_category_assignee": ("tenant", {"group_by": ["category", "assignee"]}),
    "tenant_one_quarter_by_estate": (
        "tenant",
        {"group_by": ["estate"], "from_month": "2026-04", "to_month": "2026-06"},
    ),
    "public_league": ("league", {}),
}

# pg8000 takes "%s" parameters, so the modulo operator is written "%%".
LOAD = """
INSERT INTO surveys (
    id, tenant, case_id, estate_id, closure_event_id, status, case_title, category, assignee,
    template_version, month, respondent_name, respondent_phone, respondent_household,
    link_due_at, link_sent_at, expires_at, score, speed, attitude, quality, nps, ces, solved,
    flagged_burst, verified, created_at, answered_at, reopened_at
)
SELECT
    :prefix || lpad(i::text, 20, '0'), :tenant, md5('k' || i), 'estate-' || (i %% 9),
    'c' || :prefix || lpad(i::text, 20, '0'),
    CASE WHEN i <= :answers THEN 'answered' ELSE 'issued' END,
    '事项', (ARRAY['repair','complaint','suggestion','consultation','emergency'])[1 + i %% 5],
    '师傅' || (i %% 30), 1, '2026-' || lpad((1 + (i / 7) %% 12)::text, 2, '0'), '居民', '+8613900000000',
    (i %% 40) || '-' || (i %% 6) || '-' || (100 + i %% 30),
    ts, ts, ts + interval '7 days',
    CASE WHEN i <= :answers THEN (ARRAY[5,5,5,5,4,4,3,2,1,5])[1 + (i * 7) %% 10] END,
    CASE WHEN i <= :answers THEN 1 + (i * 3) %% 5 END,
    CASE WHEN i <= :answers THEN 1 + (i * 11) %% 5 END,
    CASE WHEN i <= :answers THEN 1 + (i * 13) %% 5 END,
    CASE WHEN i <= :answers AND i %% 3 = 0 THEN (i * 37) %% 11 END,
    CASE WHEN i <= :answers AND i %% 4 = 0 THEN 1 + (i * 13) %% 7 END,
    CASE WHEN i <= :answers THEN i %% 17 <> 0 END,
    i %% 997 = 0, i <= :answers AND i %% 5 <> 0, ts, CASE WHEN i <= :answers THEN ts + interval '1 hour' END,
    CASE WHEN i <= :answers AND i %% 53 = 0 THEN ts + interval '1 day' END
FROM (
    SELECT i, timestamp '2026-01-01' + (i %% 360) * interval '1 day' AS ts
    FROM generate_series(1, :total) AS i
) AS g
"""


def admin_engine(database_url: str):  # noqa: ANN201 - an Engine
    url = make_url(database_url).set(drivername="postgresql+pg8000")
    return create_engine(url, isolation_level="AUTOCOMMIT"), url


def load(store: Store, answers: int) -> float:
    """Bulk-load ``answers`` answered surveys (and 10 % unanswered), then their tallies; seconds taken.

    Ids ascend, as the service's UUIDv7 ids do; the secondary indexes are built after the load.
    """
    started = time.monotonic()
    indexes = list(Survey.__table__.indexes)
    with store.engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
        total = answers + answers // 10
        conn.execute(text(LOAD), {"prefix": "a", "tenant": TENANT, "answers": answers, "total": total})
        conn.execute(text(LOAD), {"prefix": "b", "tenant": "bench-small", "answers": 40, "total": 44})
        for index in indexes:
            index.create(conn)
    with store.transaction() as session:
        tallies.rebuild(session)
    vacuum = create_engine(store.engine.url, isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction
    try:
        with vacuum.connect() as conn:
            conn.execute(text("VACUUM ANALYZE surveys"))
            conn.execute(text("VACUUM ANALYZE survey_tallies"))
    finally:
        vacuum.dispose()
    return time.monotonic() - started


def time_queries(store: Store, runs: int = RUNS) -> dict[str, float]:
    """Median milliseconds of each statistics query (one warm-up run each)."""
    medians = {}
    for name, (kind, params) in QUERIES.items():
        samples = []
        for attempt in range(runs + 1):
            started = time.perf_counter()
            with store.read() as session:
                if kind == "tenant":
                    rows = statistics.for_tenant(session, TENANT, params)
                else:
                    rows = statistics.league(session, params)
            if attempt:
                samples.append((time.perf_counter() - started) * 1000)
        assert rows, f"{name} returned nothing"
        medians[name] = round(stats.median(samples), 1)
    return medians


def time_recount(store: Store, runs: int = 3) -> float:
    """Median milliseconds of the same figures straight from the surveys table (no tallies)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with store.read() as session:
            statistics.recount(session, TENANT)
        samples.append((time.perf_counter() - started) * 1000)
    return round(stats.median(samples), 1)


def plan(store: Store) -> str:
    """EXPLAIN of the heaviest tenant query, to show the index-only scan."""
    stmt = statistics.query(["estate", "month"], tenant=TENANT)
    compiled = stmt.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        return "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")))


def measure(database_url: str, answers: int = 1_000_000) -> dict:
    """Everything: load time, each query's median, the plan."""
    admin, url = admin_engine(database_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    bench_url = url.set(database=DATABASE).render_as_string(hide_password=False)
    try:
        migrate.upgrade("surveys", bench_url)
        engine = make_engine(bench_url)
        store = Store(engine)
        try:
            load_s = load(store, answers)
            medians = time_queries(store)
            recount_ms = time_recount(store)
            explain = plan(store)
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()
    return {
        "answers": answers,
        "load_s": round(load_s, 1),
        "query_ms": medians,
        "recount_ms": recount_ms,
        "plan": explain,
    }


def run(database_url: str, answers: int = 1_000_000) -> dict:
    """For ``make bench``: the slowest statistics query's median, in milliseconds."""
    result = measure(database_url, answers)
    return {"stats_1m_ms": max(result["query_ms"].values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the benchmark creates and drops its own (lxbench_stats)",
    )
    parser.add_argument("--plan", action="store_true", help="also print EXPLAIN ANALYZE of the heaviest query")
    args = parser.parse_args(argv)
    result = measure(args.database_url, args.answers)
    print(json.dumps({"stats_1m_ms": max(result["query_ms"].values())}))
    print(json.dumps({k: v for k, v in result.items() if k != "plan"}, ensure_ascii=False), file=sys.stderr)
    if args.plan:
        print(result["plan"], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
