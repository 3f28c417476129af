"""The queue's running counts per status and its bigram search, on the test database.

Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL (a private database, migrated from empty,
through migration 0006 which fills both from the cases already there).
"""

import os

import pytest
from sqlalchemy import insert

from services.common import migrate
from services.common.db import Store, make_engine
from services.requests import bigrams, cases, incidents, search, status_counts
from services.requests.models import Case, CaseBigram, Estate
from tests.support.cases import HOUR, T0, Emitted
from tests.support.infra import private_databases

pytestmark = pytest.mark.integration

QUERY = {"limit": 50}


@pytest.fixture
def store():
    """Migrated to 0005 with one case written straight into the table, then to the head (0006)."""
    with private_databases(os.environ.get("TEST_DATABASE_URL")) as urls:
        migrate.upgrade("requests", urls["requests"], "0005")
        engine = make_engine(urls["requests"])
        with engine.begin() as conn:
            conn.execute(insert(Estate), [{"id": "e-old", "tenant": "t1", "name": "老小区", "created_at": T0}])
            conn.execute(insert(Case), [old_case()])
        migrate.upgrade("requests", urls["requests"])
        yield Store(engine)
        engine.dispose()


def old_case() -> dict:
    return {
        "id": "00000000-old0-7000-8000-000000000001", "tenant": "t1", "estate_id": "e-old", "category": "repair",
        "title": "旧案漏水", "description": "before 0006", "channel": "app", "priority": "normal",
        "reporter_name": "陈", "reporter_phone": "+8613912345678", "reporter_household": "1-1-101",
        "status": "closed", "paused_seconds": 0, "escalation_level": 0, "rating_verified": False, "reopen_count": 0,
        "created_at": T0 - 100 * HOUR, "updated_at": T0 - 100 * HOUR,
    }  # fmt: skip


def submit(session, emit, tenant, estate_id, title, description="详见标题", at=T0):
    body = {
        "estate_id": estate_id, "category": "repair", "title": title, "description": description,
        "channel": "app", "priority": "normal",
        "reporter": {"name": "陈先生", "phone": "+8613912345678", "household": "3-2-501"},
    }  # fmt: skip
    return cases.submit(session, emit, tenant, body, "staff", now=at)


def estate(session, tenant):
    return cases.create_estate(session, tenant, {"name": "东方现代城", "address": None, "households": 10})["id"]


def step(store, emit, tenant, case_id, action, **extra):
    with store.transaction() as session:
        return cases.transition(session, emit, tenant, case_id, action, "staff", now=T0 + HOUR, **extra)


def test_the_running_counts_equal_a_recount_after_creations_transitions_merges_edits_and_a_rollback(store):
    emit = Emitted()
    with store.read() as session:  # the migration counted the case already there
        assert status_counts.stored(session) == {("t1", "closed"): 1} == status_counts.recount(session)
    with store.transaction() as session:
        mine, theirs = estate(session, "t1"), estate(session, "t2")
        made = [submit(session, emit, "t1", mine, f"楼道灯不亮 {n}") for n in range(5)]
        other = submit(session, emit, "t2", theirs, "电梯困人")
    step(store, emit, "t1", made[0]["id"], "accept")
    step(store, emit, "t1", made[0]["id"], "assign", assignee="王师傅")
    step(store, emit, "t1", made[1]["id"], "cancel", note="重复提交")
    step(store, emit, "t2", other["id"], "accept")
    with store.transaction() as session:
        incident = incidents.declare(
            session, emit, "t1",
            {"estate_id": mine, "kind": "water_outage", "title": "停水", "description": "抢修",
             "severity": "critical", "expected_end": T0 + 48 * HOUR},
            "staff", T0,
        )  # fmt: skip
        incidents.merge(session, emit, "t1", incident["id"], [made[2]["id"], made[3]["id"]], "staff")
    with store.transaction() as session:  # the merged cases close with the incident
        incidents.resolve(session, emit, "t1", incident["id"], {"resolution": "恢复供水"}, "staff", T0 + 2 * HOUR)
    with store.transaction() as session:
        cases.edit(session, "t1", made[4]["id"], {"title": "外墙渗水"}, "staff")
    with pytest.raises(RuntimeError), store.transaction() as session:  # rolled back: counted nowhere
        submit(session, emit, "t1", mine, "不会留下")
        raise RuntimeError
    with store.read() as session:
        running, counted = status_counts.stored(session), status_counts.recount(session)
        page = search.counts(session, ["t1"], {}, T0 + 3 * HOUR)
        narrowed = search.counts(session, ["t1"], {"created_from": T0, "escalated": False}, T0 + 3 * HOUR)
    assert running == counted == {
        ("t1", "closed"): 3, ("t1", "submitted"): 1, ("t1", "assigned"): 1, ("t1", "cancelled"): 1,
        ("t2", "accepted"): 1,
    }  # fmt: skip
    assert page["total"] == 6 and page["capped"] is False
    assert page["by_status"]["closed"] == 3 and page["by_status"]["accepted"] == 0
    assert narrowed == {"total": 5, "by_status": narrowed["by_status"], "capped": False}  # not the old case
    assert {k: v for k, v in narrowed["by_status"].items() if v} == {
        "assigned": 1, "cancelled": 1, "closed": 2, "submitted": 1,
    }  # fmt: skip
    with store.transaction() as session:
        assert status_counts.rebuild(session) == 5
    with store.read() as session:
        assert status_counts.stored(session) == counted


def test_search_finds_two_character_longer_and_latin_terms_literally_and_never_another_companys(store):
    emit = Emitted()
    with store.transaction() as session:
        mine, theirs = estate(session, "t1"), estate(session, "t2")
        leak = submit(session, emit, "t1", mine, "厨房水管漏水", at=T0 + HOUR)
        pump = submit(session, emit, "t1", mine, "水泵坏了", "Water PUMP broken", at=T0 + 2 * HOUR)
        odd = submit(session, emit, "t1", mine, "100%满意_问卷", at=T0 + 3 * HOUR)
        submit(session, emit, "t2", theirs, "卫生间漏水 pump", at=T0 + 4 * HOUR)
        edited = submit(session, emit, "t1", mine, "楼道灯不亮", at=T0 + 5 * HOUR)
    with store.transaction() as session:
        cases.edit(session, "t1", edited["id"], {"description": "顶楼漏水了"}, "staff")

    def found(term):
        with store.read() as session:
            rows = search.list_cases(session, ["t1"], QUERY | {"q": term}, T0 + 6 * HOUR)["data"]
        return [row["id"] for row in rows]

    old = old_case()["id"]  # its bigrams came from the migration
    assert found("漏水") == [edited["id"], leak["id"], old]
    assert found("水管漏水") == [leak["id"]]
    assert found("漏水了") == [edited["id"]]
    assert found("pump") == found("Pump") == [pump["id"]]
    assert found("水") == [edited["id"], pump["id"], leak["id"], old]  # one character: the scan
    assert found("0%") == found("%满") == [odd["id"]]
    assert found("%") == found("_") == [odd["id"]]
    assert found("1_0") == found("0%%") == found("__") == []
    assert found("楼道灯不亮") == [edited["id"]]
    with store.read() as session:
        assert {row.tenant for row in session.query(CaseBigram).filter(CaseBigram.bigram == "漏水")} == {"t1", "t2"}


def test_a_search_counts_its_newest_matches_and_says_when_more_match(store, monkeypatch):
    emit = Emitted()
    with store.transaction() as session:
        mine = estate(session, "t1")
        for n in range(3):
            submit(session, emit, "t1", mine, f"漏水 {n}", at=T0 + n * HOUR)
        first = submit(session, emit, "t1", mine, "漏水 again", at=T0 + 5 * HOUR)
    with store.transaction() as session:
        cases.transition(session, emit, "t1", first["id"], "accept", "staff", now=T0 + 6 * HOUR)
    monkeypatch.setattr(search, "SEARCH_COUNT_LIMIT", 3)
    with store.read() as session:
        capped = search.counts(session, ["t1"], {"q": "漏水"}, T0 + 7 * HOUR)
        exact = search.counts(session, ["t1"], {"q": "漏水 a"}, T0 + 7 * HOUR)
    assert (capped["total"], capped["capped"]) == (3, True)  # 5 match (the old case too): the newest 3
    assert (capped["by_status"]["accepted"], capped["by_status"]["submitted"]) == (1, 2)
    assert (exact["total"], exact["capped"], exact["by_status"]["accepted"]) == (1, False, 1)
    assert bigrams.of_term("漏水 a") == ["漏水", "水 ", " a"]
