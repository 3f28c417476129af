"""The queue benchmark's own logic: its filter combinations, its percentiles and verdict, the page's
cursor, and the spread of the cases it loads (ids in time order, open cases overdue and escalated)."""

from collections import Counter
from datetime import datetime, timedelta

import pytest

from bench.perf import queue, queue_seed
from services.requests import lifecycle

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 10, 0, 0)


def test_the_combinations_are_the_desk_s_filters_and_page_two():
    table = queue.combinations("estate-3", datetime(2026, 12, 1, 18, 0), "cursor-id")
    assert [c.name for c in table] == [
        "none", "status", "overdue", "escalated", "estate+category", "date range", "search 漏水", "page 2",
    ]  # fmt: skip
    params = {c.name: c.params for c in table}
    assert params["none"] == {}
    assert params["estate+category"] == {"estate_id": "estate-3", "category": "repair"}
    assert params["date range"] == {"created_from": "2026-09-02", "created_to": "2026-10-02"}
    assert params["search 漏水"] == {"q": "漏水"}
    assert params["page 2"] == {"starting_after": "cursor-id"}


def test_the_cursor_is_read_from_the_next_page_link():
    page = '<a class="next" href="/workbench?status=closed&amp;starting_after=019abc-def">下一页</a>'
    assert queue.next_cursor(page) == "019abc-def"
    with pytest.raises(ValueError):
        queue.next_cursor("<p>没有更多</p>")


def test_summary_gives_percentiles_per_combination_and_over_all_requests():
    outcome = queue.summarise({"a": [10.0, 20.0, 30.0, 40.0], "b": [100.0] * 4}, {})
    assert outcome["combinations"]["a"] == {
        "requests": 4, "p50_ms": 25.0, "p95_ms": pytest.approx(38.5), "p99_ms": pytest.approx(39.7), "errors": 0,
    }  # fmt: skip
    assert outcome["overall"]["requests"] == 8
    assert outcome["overall"]["p50_ms"] == 70.0
    assert outcome["overall"]["p99_ms"] == 100.0


def test_an_error_leaves_the_overall_p99_unknown_not_fast():
    outcome = queue.summarise({"a": [10.0, 20.0]}, {"a": 1})
    assert outcome["combinations"]["a"]["errors"] == 1
    assert outcome["overall"]["errors"] == 1 and outcome["overall"]["p99_ms"] is None
    assert queue.verdict(None) == "not measured"


def test_the_target_is_200_ms_at_p99():
    assert queue.verdict(200.0) == "met"
    assert queue.verdict(200.1) == "missed"


def test_the_table_prints_each_combination_and_the_overall_row():
    outcome = queue.summarise({"none": [10.0, 12.0], "page 2": [11.0]}, {})
    lines = queue.table("GET /workbench on sqlite", outcome).splitlines()
    assert lines[0] == "GET /workbench on sqlite"
    assert [line.split()[0] for line in lines[3:]] == ["none", "page", "overall"]


def test_measure_times_each_combination_after_its_warm_up():
    asked = []

    class Page:
        status_code = 200
        text = '<tr data-case="x">'

    def get(params):
        asked.append(params)
        return Page()

    table = [queue.Combination("none", {}), queue.Combination("status", {"status": "closed"})]
    outcome = queue.measure(get, table, requests=3, warmup=2)
    assert len(asked) == 10
    assert outcome["combinations"]["status"]["requests"] == 3 and outcome["overall"]["requests"] == 6


def rows(per_tenant=3_000):
    tenants = (queue_seed.Tenant("mine", ("e1", "e2", "e3")), queue_seed.Tenant("theirs", ("f1",)))
    return list(queue_seed.case_rows(tenants, per_tenant, NOW))


def test_loaded_ids_sort_like_their_creation_times_and_are_unique():
    loaded = rows()
    ids = [r["id"] for r in loaded]
    assert len(set(ids)) == len(ids) and all(len(i) == 36 for i in ids)
    assert sorted(ids) == ids
    assert [r["created_at"] for r in loaded] == sorted(r["created_at"] for r in loaded)
    assert all(r["created_at"] < NOW for r in loaded)


def test_the_tenants_are_interleaved_with_their_own_estates():
    loaded = rows()
    assert Counter(r["tenant"] for r in loaded) == {"mine": 3_000, "theirs": 3_000}
    assert {r["estate_id"] for r in loaded if r["tenant"] == "mine"} == {"e1", "e2", "e3"}
    assert {r["estate_id"] for r in loaded if r["tenant"] == "theirs"} == {"f1"}


def test_the_spread_is_a_desk_s_mostly_closed_some_open_overdue_and_escalated():
    loaded = rows(20_000)
    statuses = Counter(r["status"] for r in loaded)
    assert statuses["closed"] > len(loaded) * 0.8
    assert {"submitted", "in_progress", "waiting_resident", "resolved", "cancelled"} <= set(statuses)
    open_ = [r for r in loaded if r["status"] not in ("closed", "resolved", "cancelled", "merged")]
    late = [r for r in open_ if r["resolution_due_at"] < NOW]
    assert 0 < len(late) < len(open_)
    assert 0 < sum(r["escalation_level"] > 0 for r in loaded) < len(loaded) * 0.05
    assert len({r["category"] for r in loaded}) == 5 and len({r["priority"] for r in loaded}) == 4
    assert all(r["assignee"] is None for r in loaded if r["status"] == "submitted")
    assert 0.05 < sum("漏水" in r["title"] for r in loaded) / len(loaded) < 0.3
    old = [r for r in loaded if NOW - r["created_at"] > timedelta(days=60)]
    assert sum(r["status"] == "closed" for r in old) > len(old) * 0.9


def test_each_status_gets_the_history_that_leads_to_it():
    assert set(queue_seed.DEPTH) == set(lifecycle.STATES)
    sql = queue_seed.history_sql()
    assert sql.startswith("INSERT INTO case_history")
    assert "WHEN 'closed' THEN 6" in sql and "'submit' AS action, NULL AS from_status" in sql
