"""The workbench queue (``GET /workbench``) as a signed-in member of staff's browser asks for it.

Issue 16's target: ≤ 200 ms p99 with 100,000 cases of the company on PostgreSQL. Each filter
combination a desk uses is asked for in turn, one request at a time after a warm-up, and its
percentiles are reported beside the overall ones; the page is the whole answer (the list, the
counts per status, the estates and categories), as a browser gets it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests as http

from bench.perf.report import percentile

TARGET_P99_MS = 200.0
NEXT_PAGE = re.compile(r'href="/workbench\?[^"]*starting_after=([^"&]+)')


@dataclass(frozen=True)
class Combination:
    """One way a desk filters the queue: a name for the table and the page's query string."""

    name: str
    params: dict[str, str]


def combinations(estate: str, today: datetime, cursor: str) -> list[Combination]:
    """The queue's filter combinations (dates as the page's date fields: Asia/Shanghai days)."""
    day = today.date()
    since, until = (day - timedelta(days=90)).isoformat(), (day - timedelta(days=60)).isoformat()
    return [
        Combination("none", {}),
        Combination("status", {"status": "in_progress"}),
        Combination("overdue", {"overdue": "true"}),
        Combination("escalated", {"escalated": "true"}),
        Combination("estate+category", {"estate_id": estate, "category": "repair"}),
        Combination("date range", {"created_from": since, "created_to": until}),
        Combination("search 漏水", {"q": "漏水"}),
        Combination("page 2", {"starting_after": cursor}),
    ]


def next_cursor(page: str) -> str:
    """The ``starting_after`` of the page's 下一页 link."""
    found = NEXT_PAGE.search(page)
    if not found:
        raise ValueError("the queue page has no next-page link")
    return found.group(1)


def summary(latencies: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def summarise(by_combination: Mapping[str, Sequence[float]], errors: Mapping[str, int]) -> dict:
    """Percentiles per combination and over every request; a combination with errors has no p99."""
    rows = {name: summary(values) | {"errors": errors.get(name, 0)} for name, values in by_combination.items()}
    overall = summary([v for values in by_combination.values() for v in values])
    overall["errors"] = sum(errors.values())
    if overall["errors"]:
        overall["p99_ms"] = None  # a failed request has no latency, and must not pass as a fast one
    return {"combinations": rows, "overall": overall}


def verdict(p99_ms: float | None, target: float = TARGET_P99_MS) -> str:
    if p99_ms is None:
        return "not measured"
    return "met" if p99_ms <= target else "missed"


def measure(
    get: Callable[[dict[str, str]], http.Response],
    table: Sequence[Combination],
    requests: int,
    warmup: int,
) -> dict:
    """``requests`` sequential page loads per combination, after ``warmup`` unmeasured ones each."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for combination in table:
        for _ in range(warmup):
            get(combination.params)
        times = latencies.setdefault(combination.name, [])
        for _ in range(requests):
            started = time.monotonic()
            response = get(combination.params)
            elapsed = (time.monotonic() - started) * 1000
            if response.status_code == 200 and 'data-case="' in response.text:
                times.append(elapsed)
            else:
                errors[combination.name] = errors.get(combination.name, 0) + 1
    return summarise(latencies, errors)


def table(title: str, outcome: Mapping) -> str:
    """The printed per-combination table."""
    head = f"{'combination':<18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
    lines = [title, head, "-" * len(head)]
    rows = dict(outcome["combinations"]) | {"overall": outcome["overall"]}
    for name, row in rows.items():
        shown = [("null" if row[k] is None else f"{row[k]:.1f}") for k in ("p50_ms", "p95_ms", "p99_ms")]
        lines.append(f"{name:<18} {row['requests']:>5} {shown[0]:>8} {shown[1]:>8} {shown[2]:>8} {row['errors']:>6}")
    return "\n".join(lines)
