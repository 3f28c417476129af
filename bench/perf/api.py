"""The HTTP API under load: case submissions per second, and listing cases at a million rows."""

from __future__ import annotations

import itertools
import random
import time

import requests as http
from sqlalchemy import text

from bench.perf.load import closed_loop
from bench.perf.report import percentile
from services.common.db import make_engine


def post_cases(base: str, key: str, estate: str, clients: int, seconds: float) -> dict:
    """``POST /api/v1/cases`` back to back from ``clients`` concurrent clients."""

    def send(session: http.Session, n: object) -> int:
        body = {
            "estate_id": estate,
            "category": "repair",
            "title": f"水管漏水 {n}",
            "description": "厨房水管接口漏水, 请尽快处理",
            "channel": "app",
            "reporter": {"name": "住户", "phone": f"1370000{int(n) % 10000:04d}", "household": "2-1-302"},
        }
        return session.post(f"{base}/api/v1/cases", json=body, timeout=30).status_code

    run = closed_loop(key, send, itertools.count(), clients, seconds)
    latencies = sorted((c.finished - c.started) * 1000 for c in run.ok((201,)))
    return {
        "post_cases_rps": run.rate((201,)),
        "details": {
            "clients": clients,
            "seconds": round(run.finished - run.started, 1),
            "created": len(latencies),
            "errors": len(run.calls) - len(latencies),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
        },
    }


# A million cases in one statement; ids sort like the service's time-ordered ids (all older).
# pg8000 takes "%s" parameters, so the modulo operator is written "%%".
BULK_CASES = """
INSERT INTO cases (id, tenant, estate_id, category, title, description, channel, priority,
                   reporter_name, reporter_phone, reporter_household, status, assignee,
                   reopen_count, created_at, updated_at)
SELECT '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), :tenant, :estate,
       (ARRAY['repair','complaint','suggestion','consultation','emergency'])[1 + g %% 5],
       '报修 ' || g, '性能测试的历史诉求', 'app', 'normal', '住户',
       '+86138' || lpad((g %% 100000000)::text, 8, '0'), '1-1-101',
       (ARRAY['submitted','accepted','assigned','in_progress','resolved','closed'])[1 + g %% 6],
       CASE WHEN g %% 6 >= 2 THEN '师傅' END, 0,
       now() - make_interval(secs => (:rows - g)), now() - make_interval(secs => (:rows - g))
FROM generate_series(1, :rows) AS g
"""

BULK_HISTORY = """
INSERT INTO case_history (case_id, action, from_status, to_status, actor, source, at)
SELECT '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), 'submit', NULL, 'submitted', 'bench', 'api',
       now() - make_interval(secs => (:rows - g))
FROM generate_series(1, :rows) AS g
"""


def load_cases(requests_url: str, tenant: str, estate: str, rows: int) -> float:
    """Bulk-load ``rows`` cases (one history row each) into a PostgreSQL requests database; seconds taken."""
    engine = make_engine(requests_url)
    started = time.monotonic()
    try:
        with engine.begin() as conn:
            params = {"tenant": tenant, "estate": estate, "rows": rows}
            conn.execute(text(BULK_CASES), params)
            conn.execute(text(BULK_HISTORY), params)
    finally:
        engine.dispose()
    vacuum = make_engine(requests_url, isolation_level="AUTOCOMMIT")  # VACUUM refuses a transaction
    try:
        with vacuum.connect() as conn:
            conn.execute(text("VACUUM ANALYZE cases, case_history"))
    finally:
        vacuum.dispose()
    return time.monotonic() - started


def list_cases(base: str, key: str, rows: int, requests_count: int, estate: str) -> dict:
    """``GET /api/v1/cases`` one at a time: first pages, deep cursors, status and estate filters."""
    session = http.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {key}"
    chooser = random.Random(10)
    latencies = []
    errors = 0
    for n in range(requests_count):
        params: dict[str, object] = {"limit": 20}
        kind = n % 4
        if kind == 1:
            depth = chooser.randint(1, rows)
            params["starting_after"] = f"00000000-0000-7000-8000-{depth:012d}"
        elif kind == 2:
            params["status"] = chooser.choice(["submitted", "in_progress", "closed"])
        elif kind == 3:
            params["estate_id"] = estate
            params["starting_after"] = f"00000000-0000-7000-8000-{chooser.randint(1, rows):012d}"
        started = time.monotonic()
        response = session.get(f"{base}/api/v1/cases", params=params, timeout=30)
        elapsed = (time.monotonic() - started) * 1000
        if response.status_code == 200:
            latencies.append(elapsed)
        else:
            errors += 1
    floor = []  # the same path with no case query: HTTP, authentication and one RPC round trip
    for _ in range(min(100, requests_count)):
        started = time.monotonic()
        session.get(f"{base}/api/v1/estates", timeout=30)
        floor.append((time.monotonic() - started) * 1000)
    return {
        "list_cases_p99_ms": percentile(latencies, 99) if not errors else None,
        "details": {
            "cases": rows,
            "requests": requests_count,
            "errors": errors,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "estates_rpc_floor_p50_ms": percentile(floor, 50),
            "estates_rpc_floor_p99_ms": percentile(floor, 99),
        },
    }
