"""The company's case figures per group (services/requests/statistics.py) on SQLite with frozen
times: counts, on-time and reopen rates, the Asia/Shanghai month, the filters, and the tenant."""

from datetime import datetime, timedelta

import pytest

from services.common.db import Store, make_engine
from services.common.errors import NotFound
from services.requests import community, statistics
from services.requests.models import Base
from tests.support.cases import HOUR, T0, Emitted, close, move, new_case

pytestmark = pytest.mark.unit

LATE = T0 + timedelta(days=60)  # past any category's resolution time
DECEMBER_IN_SHANGHAI = datetime(2026, 11, 30, 16, 30)  # 2026-12-01 00:30 in Shanghai, still November in UTC


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/requests.sqlite3")
    Base.metadata.create_all(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def world(store):
    """t1: four cases in two estates (one on time then reopened, one late, two open, one of them
    created in December by Shanghai's clock); t2: one case resolved on time, never t1's."""
    emit = Emitted()
    on_time = new_case(store, emit)
    estate = on_time["estate_id"]
    close(store, emit, on_time["id"], at=T0 + HOUR)
    move(store, emit, on_time["id"], "reopen", T0 + 2 * HOUR, note="灯又坏了")
    late = new_case(store, emit, estate_id=estate)
    close(store, emit, late["id"], at=LATE)
    noise = new_case(store, emit, category="noise")
    december = new_case(store, emit, estate_id=estate, now=DECEMBER_IN_SHANGHAI)
    other = new_case(store, emit, tenant="t2")
    close(store, emit, other["id"], at=T0 + HOUR, tenant="t2")
    return {"estate": estate, "noise_estate": noise["estate_id"], "other_estate": other["estate_id"],
            "december": december}  # fmt: skip


def figures(store, **params):
    with store.read() as session:
        return statistics.for_tenant(session, "t1", params)


def counts(row):
    return {k: row[k] for k in ("cases", "resolved", "on_time", "reopened", "on_time_rate", "reopen_rate")}


def test_one_row_counts_only_the_tenant_s_cases_with_both_rates_over_the_resolved_ones(store, world):
    [row] = figures(store)
    assert row == {"estate_id": None, "category": None, "assignee": None, "month": None, "cases": 4, "resolved": 2,
                   "on_time": 1, "reopened": 1, "on_time_rate": 0.5, "reopen_rate": 0.5}  # fmt: skip


def test_groups_by_estate_category_assignee_and_the_month_in_shanghai(store, world):
    by_month = figures(store, group_by=["month"])
    assert [(r["month"], r["cases"], r["resolved"]) for r in by_month] == [("2026-11", 3, 2), ("2026-12", 1, 0)]
    by_estate = {(r["estate_id"], r["category"]): counts(r) for r in figures(store, group_by=["estate", "category"])}
    assert by_estate == {
        (world["estate"], "repair"): {"cases": 3, "resolved": 2, "on_time": 1, "reopened": 1,
                                      "on_time_rate": 0.5, "reopen_rate": 0.5},
        (world["noise_estate"], "noise"): {"cases": 1, "resolved": 0, "on_time": 0, "reopened": 0,
                                           "on_time_rate": None, "reopen_rate": None},
    }  # fmt: skip
    by_assignee = {r["assignee"]: r["cases"] for r in figures(store, group_by=["assignee"])}
    assert by_assignee == {"王师傅": 2, None: 2}


def test_month_range_and_estate_filter_and_another_tenant_s_estate_is_not_found(store, world):
    assert [r["cases"] for r in figures(store, from_month="2026-12")] == [1]
    assert [r["cases"] for r in figures(store, to_month="2026-11")] == [3]
    assert figures(store, from_month="2027-01") == []
    [only] = figures(store, estate_id=world["noise_estate"])
    assert only["cases"] == 1
    with pytest.raises(NotFound):
        figures(store, estate_id=world["other_estate"])


def test_the_league_and_the_statistics_count_on_time_and_reopened_alike(store, world, monkeypatch):
    monkeypatch.setattr(community, "MINIMUM_CASES", 1)  # the league withholds groups under five resolved cases
    with store.read() as session:
        [company] = community.league(session, ["t1"], T0 - HOUR)["companies"]
    [row] = figures(store)
    assert (company["on_time_rate"], company["reopen_rate"]) == (row["on_time_rate"], row["reopen_rate"]) == (0.5, 0.5)
