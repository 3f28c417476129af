"""Survey statistics in SQL against hand-computed figures on a fixed data set, small groups withheld.

Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL (a private database, migrated from empty).
"""

import os
from datetime import datetime

import pytest
from sqlalchemy import delete

from services.common import migrate
from services.common.db import Store, make_engine
from services.common.ids import new_id
from services.surveys import statistics
from services.surveys.models import Survey
from tests.support.infra import private_databases

pytestmark = pytest.mark.integration

SENT = datetime(2026, 10, 5, 2, 0)


@pytest.fixture(scope="module")
def store():
    with private_databases(os.environ.get("TEST_DATABASE_URL")) as urls:
        migrate.upgrade("surveys", urls["surveys"])
        engine = make_engine(urls["surveys"])
        store = Store(engine)
        with store.transaction() as session:
            session.add_all(DATA())
        with store.transaction() as session:
            assert statistics.rebuild(session) == 4  # A/E1, A/E2, B/E3, B/E4: one assignee, category, month each
        yield store
        engine.dispose()


def row(tenant, estate, category, assignee, month, status="answered", score=None, sent=True, **answer):
    return Survey(
        id=new_id(),
        tenant=tenant,
        case_id=new_id(),
        estate_id=estate,
        closure_event_id=new_id(),
        status=status,
        case_title="事项",
        category=category,
        assignee=assignee,
        template_version=0,
        month=month,
        respondent_name="居民",
        respondent_phone="+8613900000000",
        respondent_household="1-1-101",
        link_due_at=SENT,
        link_sent_at=SENT if sent else None,
        expires_at=datetime(2027, 1, 1),
        score=score,
        nps=answer.get("nps"),
        ces=answer.get("ces"),
        solved=answer.get("solved"),
        flagged_burst=answer.get("flagged", False),
        verified=answer.get("verified", True),  # a confirmed household member answered (the fixed set: all)
        reopened_at=SENT if answer.get("reopened") else None,
        answered_at=SENT if status == "answered" else None,
    )


def DATA():  # noqa: N802 - the fixed data set
    e1 = ("A", "E1", "repair", "王师傅", "2026-10")
    e2 = ("A", "E2", "complaint", "李师傅", "2026-11")
    e3 = ("B", "E3", "repair", "赵师傅", "2026-11")
    e4 = ("B", "E4", "repair", "赵师傅", "2026-11")
    return [
        # A / E1: five answers, one unanswered; a voided and an unsent one do not count.
        row(*e1, score=5, nps=10, ces=2, solved=True),
        row(*e1, score=4, nps=9, ces=3, solved=True),
        row(*e1, score=3, nps=7, ces=4, solved=True),
        row(*e1, score=2, nps=3, ces=6, solved=False, reopened=True),
        row(*e1, score=5, solved=True),
        row(*e1, status="issued"),
        row(*e1, status="voided"),
        row(*e1, status="issued", sent=False),
        # A / E2: four answers, three of them a burst from one client; one unanswered.
        row(*e2, score=1),
        row(*e2, score=4, flagged=True),
        row(*e2, score=5, flagged=True),
        row(*e2, score=5, flagged=True),
        row(*e2, status="issued"),
        # B / E3: six answers, one unanswered. B / E4: two answers (too few to publish).
        *[row(*e3, score=s) for s in (5, 5, 4, 4, 3, 1)],
        row(*e3, status="issued"),
        row(*e4, score=5),
        row(*e4, score=5),
    ]


E1 = {
    "issued": 6,
    "responses": 5,
    "response_rate": 0.8333,
    "csat": 0.6,
    "csat_mean": 3.8,
    "nps": 25.0,  # 2 promoters, 1 detractor, 4 answers
    "nps_responses": 4,
    "ces_mean": 3.75,
    "low_scores": 1,
    "reopened_after_survey": 1,
    "flagged_burst": 0,
    "unverified_responses": 0,
}
E2 = {
    "issued": 5,
    "responses": 4,
    "response_rate": 0.8,
    "csat": 0.75,
    "csat_mean": 3.75,
    "nps": None,
    "nps_responses": 0,
    "ces_mean": None,
    "low_scores": 1,
    "reopened_after_survey": 0,
    "flagged_burst": 3,
    "unverified_responses": 0,
}
NO_KEYS = {"estate_id": None, "category": None, "assignee": None, "month": None}


def test_a_tenants_totals(store):
    with store.read() as session:
        assert statistics.for_tenant(session, "A", {}) == [
            NO_KEYS
            | {
                "issued": 11,
                "responses": 9,
                "response_rate": 0.8182,
                "csat": 0.6667,
                "csat_mean": 3.78,
                "nps": 25.0,
                "nps_responses": 4,
                "ces_mean": 3.75,
                "low_scores": 2,
                "reopened_after_survey": 1,
                "flagged_burst": 3,
                "unverified_responses": 0,
            }
        ]


def test_per_estate_and_per_month_and_per_category_and_assignee(store):
    with store.read() as session:
        by_estate = statistics.for_tenant(session, "A", {"group_by": ["estate"]})
        by_month = statistics.for_tenant(session, "A", {"group_by": ["month"]})
        by_both = statistics.for_tenant(session, "A", {"group_by": ["category", "assignee"]})
    assert by_estate == [NO_KEYS | {"estate_id": "E1"} | E1, NO_KEYS | {"estate_id": "E2"} | E2]
    assert by_month == [NO_KEYS | {"month": "2026-10"} | E1, NO_KEYS | {"month": "2026-11"} | E2]
    assert by_both == [
        NO_KEYS | {"category": "complaint", "assignee": "李师傅"} | E2,
        NO_KEYS | {"category": "repair", "assignee": "王师傅"} | E1,
    ]


def test_month_range_and_estate_filter(store):
    with store.read() as session:
        assert statistics.for_tenant(session, "A", {"from_month": "2026-11", "to_month": "2026-12"}) == [NO_KEYS | E2]
        assert statistics.for_tenant(session, "A", {"estate_id": "E1"}) == [NO_KEYS | E1]
        assert statistics.for_tenant(session, "B", {"group_by": ["estate"], "to_month": "2026-10"}) == []


def test_the_public_league_counts_trusted_answers_only_and_withholds_groups_under_five(store):
    with store.read() as session:
        league = statistics.league(session, {})
    assert league == {
        "companies": [
            # B: 8 answers, 6 of them 4–5, scores sum to 32, 9 sent.
            {"tenant": "B", "estate_id": None, "responses": 8, "csat": 0.75, "csat_mean": 4.0}
            | {"nps": None, "response_rate": 0.8889},
            # A: the three burst answers are left out: 6 answers (E1's five and E2's score 1), 3 of them 4–5.
            {"tenant": "A", "estate_id": None, "responses": 6, "csat": 0.5, "csat_mean": 3.33}
            | {"nps": 25.0, "response_rate": 0.5455},
        ],
        "estates": [
            {"tenant": "B", "estate_id": "E3", "responses": 6, "csat": 0.6667, "csat_mean": 3.67}
            | {"nps": None, "response_rate": 0.8571},
            {"tenant": "A", "estate_id": "E1", "responses": 5, "csat": 0.6, "csat_mean": 3.8}
            | {"nps": 25.0, "response_rate": 0.8333},
        ],
        "suppressed": 2,  # A/E2 (1 trusted answer) and B/E4 (2 answers)
        "minimum_answers": 5,
    }


def test_a_group_of_exactly_five_is_shown_and_of_four_is_not(store):
    with store.read() as session:
        league = statistics.league(session, {"from_month": "2026-10", "to_month": "2026-10"})
    assert [(r["tenant"], r["estate_id"], r["responses"]) for r in league["estates"]] == [("A", "E1", 5)]
    with store.transaction() as session:
        session.add(row("C", "E5", "repair", None, "2026-09", score=5))
        session.add_all([row("C", "E5", "repair", None, "2026-09", score=4) for _ in range(3)])
    with store.transaction() as session:
        statistics.rebuild(session, "C")
    try:
        with store.read() as session:
            league = statistics.league(session, {"to_month": "2026-09"})
    finally:
        with store.transaction() as session:
            session.execute(delete(Survey).where(Survey.tenant == "C"))
            statistics.rebuild(session, "C")
    assert league == {"companies": [], "estates": [], "suppressed": 2, "minimum_answers": 5}


def test_unverified_answers_count_for_the_company_and_never_in_the_league(store):
    """Five answers through links nobody vouched for and two verified ones: the league sees two (withheld)."""
    group = ("D", "E6", "repair", None, "2026-08")
    with store.transaction() as session:
        session.add_all([row(*group, score=5, nps=10, verified=False) for _ in range(5)])
        session.add_all([row(*group, score=2, solved=False), row(*group, score=4)])
    with store.transaction() as session:
        statistics.rebuild(session, "D")
    try:
        with store.read() as session:
            own = statistics.for_tenant(session, "D", {})
            league = statistics.league(session, {"from_month": "2026-08", "to_month": "2026-08"})
            rebuilt = statistics.recount(session, "D")
    finally:
        with store.transaction() as session:
            session.execute(delete(Survey).where(Survey.tenant == "D"))
            statistics.rebuild(session, "D")
    assert own == [
        NO_KEYS
        | {
            "issued": 7,
            "responses": 7,
            "response_rate": 1.0,
            "csat": 0.8571,
            "csat_mean": 4.43,  # (5 × 5 + 2 + 4) / 7
            "nps": 100.0,
            "nps_responses": 5,
            "ces_mean": None,
            "low_scores": 1,
            "reopened_after_survey": 0,
            "flagged_burst": 0,
            "unverified_responses": 5,
        }
    ]
    [counts] = rebuilt
    assert (counts["responses"], counts["satisfied"], counts["unverified_responses"]) == (2, 1, 5)
    assert (counts["unverified_satisfied"], counts["unverified_promoters"], counts["promoters"]) == (5, 5, 0)
    assert league == {"companies": [], "estates": [], "suppressed": 2, "minimum_answers": 5}
