"""The case desk's domain with frozen time and no broker: assignment, hand-back, reopen rules,
escalation, audit, search, proposals, the board and incidents (SQLite, a fake emit)."""

from datetime import timedelta

import pytest

from services.common.db import Store, make_engine
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.requests import audit, board, cases, categories, incidents, proposals, ratings, search
from services.requests.models import Base
from tests.support.cases import HOUR, T0, Emitted, close, move, new_case

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/requests.sqlite3")
    Base.metadata.create_all(engine)
    yield Store(engine)
    engine.dispose()


def test_assign_to_a_team_reassign_and_hand_back_need_reasons_and_are_audited(store):
    emit = Emitted()
    case = new_case(store, emit)
    move(store, emit, case["id"], "accept", T0)
    team = move(store, emit, case["id"], "assign", T0, assignee="义务维修队", assignee_kind="team")
    assert (team["assignee"], team["assignee_kind"]) == ("义务维修队", "team")
    with pytest.raises(ValidationFailed) as missing:
        move(store, emit, case["id"], "reassign", T0, assignee="王师傅")
    assert missing.value.errors == {"note": ["需要说明原因 (a reason is required)"]}
    moved = move(store, emit, case["id"], "reassign", T0, assignee="张红梅", assignee_kind="volunteer", note="就近")
    assert (moved["assignee"], moved["assignee_kind"]) == ("张红梅", "volunteer")
    back = move(store, emit, case["id"], "hand_back", T0 + HOUR, note="不会修电梯 (退单)")
    assert (back["status"], back["assignee"]) == ("accepted", None)
    assert back["history"][-1] | {"at": None} == {
        "action": "hand_back",
        "from_status": "assigned",
        "to_status": "accepted",
        "actor": "staff",
        "source": "api",
        "note": "不会修电梯 (退单)",
        "at": None,
    }
    assert [e["assignee"] for e in emit.of("case.assigned")] == ["义务维修队", "张红梅"]
    with store.read() as session:
        trail = audit.trail(session, case["id"])
    assignee_changes = [(c["before"], c["after"], c["actor"]) for c in trail if c["field"] == "assignee"]
    assert assignee_changes == [
        (None, "义务维修队", "staff"),
        ("义务维修队", "张红梅", "staff"),
        ("张红梅", None, "staff"),
    ]
    assert [(c["before"], c["after"]) for c in trail if c["field"] == "status"] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "assigned"),
        ("assigned", "accepted"),
    ]


def test_a_category_with_a_team_is_auto_assigned(store):
    emit = Emitted()
    with store.transaction() as session:
        configured = categories.configure(
            session,
            "t1",
            "repair",
            {
                "name": "水电维修",
                "active": True,
                "team": "义务维修队",
                "sla": {"urgent": {"response_hours": 0.25, "resolution_hours": 6}},
            },
        )
    assert configured["sla"]["urgent"] == {"response_hours": 0.25, "resolution_hours": 6.0}
    assert configured["sla"]["normal"] == {"response_hours": 2.0, "resolution_hours": 48.0}
    case = new_case(store, emit, priority="urgent")
    assert (case["status"], case["assignee"], case["assignee_kind"]) == ("assigned", "义务维修队", "team")
    assert case["resolution_due_at"] == "2026-11-28T08:00:00.000000Z"
    assert [h["actor"] for h in case["history"]] == ["staff", "system:auto-assign", "system:auto-assign"]


def test_a_tenant_may_add_its_own_category_and_switch_a_default_off(store):
    with store.transaction() as session:
        categories.configure(
            session,
            "t1",
            "elevator",
            {"name": "电梯故障", "active": True, "sla": {"normal": {"response_hours": 1, "resolution_hours": 8}}},
        )
        categories.configure(session, "t1", "parking", {"name": "停车管理", "active": False})
        codes = categories.active_codes(session, "t1")
        other = categories.active_codes(session, "t2")
    assert "elevator" in codes and "parking" not in codes
    assert "elevator" not in other and "parking" in other


def test_a_resident_reopens_within_fourteen_days_of_closure_only(store):
    emit = Emitted()
    case = new_case(store, emit)
    close(store, emit, case["id"])
    with pytest.raises(Conflict, match="within 14 days"):
        move(store, emit, case["id"], "reopen", T0 + 15 * DAY, note="又坏了")
    with pytest.raises(ValidationFailed):
        move(store, emit, case["id"], "reopen", T0 + DAY)
    assert move(store, emit, case["id"], "reopen", T0 + 14 * DAY, note="又坏了")["reopen_count"] == 1


def test_feedback_reopens_even_after_the_window_and_the_second_reopen_escalates(store):
    emit = Emitted()
    case = new_case(store, emit)
    close(store, emit, case["id"])
    assert (
        move(store, emit, case["id"], "reopen", T0 + 20 * DAY, note="回访不满意", source="visit")["status"]
        == "reopened"
    )
    assert emit.of("case.escalated") == []
    close(store, emit, case["id"])
    with store.transaction() as session:
        assert cases.reopen_on_feedback(session, emit, "t1", case["id"], "survey", "满意度低分 1 分") is True
    assert emit.of("case.escalated") == [
        {
            "case_id": case["id"],
            "estate_id": case["estate_id"],
            "title": case["title"],
            "level": 1,
            "reason": "第2次重新打开 (reopened 2 times)",
        }
    ]
    assert emit.of("case.reopened")[-1]["escalation_level"] == 1


def test_a_low_score_escalates(store):
    emit = Emitted()
    case = new_case(store, emit)
    close(store, emit, case["id"])
    with store.transaction() as session:
        cases.low_score(session, emit, "t1", case["id"], 1)
    assert [(e["level"], e["reason"]) for e in emit.of("case.escalated")] == [(1, "满意度低分 1 分")]
    assert emit.of("case.reopened")[0]["status"] == "reopened"


def test_an_edit_is_audited_and_the_sla_follows_the_new_priority(store):
    emit = Emitted()
    case = new_case(store, emit)
    with store.transaction() as session:
        edited = cases.edit(session, "t1", case["id"], {"priority": "urgent", "title": "楼道灯全灭"}, "staff", T0)
        trail = audit.trail(session, case["id"])
    assert edited["resolution_due_at"] == "2026-11-28T14:00:00.000000Z"
    assert [(c["field"], c["before"], c["after"]) for c in trail[-4:]] == [
        ("title", "楼道灯不亮", "楼道灯全灭"),
        ("priority", "normal", "urgent"),
        ("response_due_at", "2026-11-28T04:00:00.000000Z", "2026-11-28T02:30:00.000000Z"),
        ("resolution_due_at", "2026-11-30T02:00:00.000000Z", "2026-11-28T14:00:00.000000Z"),
    ]


def test_search_filters_free_text_literally_counts_and_pages_stably(store):
    emit = Emitted()
    first = new_case(store, emit)
    estate_id = first["estate_id"]
    made = [first]
    with store.transaction() as session:
        for title, category in (("100%漏水", "repair"), ("噪音_夜间", "noise"), ("车位被占", "parking")):
            body = {
                "estate_id": estate_id,
                "category": category,
                "title": title,
                "description": "详见标题",
                "channel": "app",
                "priority": "normal",
                "reporter": {"name": "陈先生", "phone": "+8613912345678", "household": "3-2-501"},
            }
            made.append(cases.submit(session, emit, "t1", body, "staff", now=T0 + HOUR))
    close(store, emit, made[2]["id"], at=T0 + 2 * HOUR)
    query = {"limit": 20}
    with store.read() as session:

        def ids(**filters):
            return [c["id"] for c in search.list_cases(session, ["t1"], query | filters, T0 + 3 * HOUR)["data"]]

        assert ids(q="%") == [made[1]["id"]]
        assert ids(q="_") == [made[2]["id"]]
        assert ids(q="漏水") == [made[1]["id"]]
        assert ids(category="noise", status="closed") == [made[2]["id"]]
        assert ids(closed_from=T0 + HOUR, closed_to=T0 + 3 * HOUR) == [made[2]["id"]]
        assert ids(created_from=T0 + HOUR) == [made[3]["id"], made[2]["id"], made[1]["id"]]
        assert ids(assignee="王师傅") == [made[2]["id"]]
        assert ids(overdue=True) == [made[0]["id"]]  # responded by 04:00? no: it is 05:00 and never accepted
        assert ids(priority="urgent") == []
        assert ids(escalated=True) == []
        assert len(ids(escalated=False)) == 4
        assert search.list_cases(session, ["t2"], query, T0)["data"] == []
        pages, cursor = [], None
        while True:
            found = search.list_cases(session, ["t1"], {"limit": 3, "starting_after": cursor}, T0)
            pages.append([c["id"] for c in found["data"]])
            if not found["has_more"]:
                break
            cursor = pages[-1][-1]
        assert pages == [[m["id"] for m in reversed(made)][:3], [made[0]["id"]]]
        counts = search.counts(session, ["t1"], {}, T0)
    assert counts["total"] == 4
    assert counts["by_status"]["submitted"] == 3 and counts["by_status"]["closed"] == 1
    assert counts["by_status"]["cancelled"] == 0


def test_a_brief_list_is_the_full_list_without_history_escalations_and_photo_count(store):
    """The workbench's queue asks for brief rows: the same cases, the same facts, nothing it does not show."""
    emit = Emitted()
    first = new_case(store, emit)
    new_case(store, emit)
    close(store, emit, first["id"], at=T0 + HOUR)
    with store.read() as session:
        full = search.list_cases(session, ["t1"], {"limit": 20, "status": "closed"}, T0 + 2 * HOUR)
    with store.read() as session:
        brief = search.list_cases(session, ["t1"], {"limit": 20, "status": "closed"}, T0 + 2 * HOUR, brief=True)
    assert brief["has_more"] == full["has_more"] and [c["id"] for c in brief["data"]] == [first["id"]]
    assert len(full["data"][0]["history"]) > 1
    assert brief["data"] == [{k: v for k, v in case.items() if k not in cases.BRIEF} for case in full["data"]]


def test_one_vote_per_household_and_the_window_closes_once(store):
    emit = Emitted()
    estate_id = new_case(store, emit)["estate_id"]
    with store.transaction() as session:
        with pytest.raises(ValidationFailed) as short:
            proposals.create(
                session,
                "t1",
                {"estate_id": estate_id, "title": "t", "description": "d", "closes_at": T0 + timedelta(minutes=5)},
                "staff",
                T0,
            )
        assert list(short.value.errors) == ["closes_at"]
        proposal = proposals.create(
            session,
            "t1",
            {"estate_id": estate_id, "title": "安装电动车充电桩", "description": "地下车库", "closes_at": T0 + 3 * DAY},
            "业委会",
            T0,
        )
    for household, choice in (
        ("3-2-501", "support"),
        ("3-2-502", "support"),
        ("5-1-101", "oppose"),
        ("6-1-1", "abstain"),
    ):
        with store.transaction() as session:
            proposals.vote(session, "t1", proposal["id"], {"household": household, "choice": choice}, "app", T0 + HOUR)
    with store.transaction() as session, pytest.raises(Conflict, match="3-2-501 has already voted"):
        proposals.vote(session, "t1", proposal["id"], {"household": "3-2-501", "choice": "oppose"}, "app", T0 + HOUR)
    with store.transaction() as session, pytest.raises(NotFound):
        proposals.vote(session, "t2", proposal["id"], {"household": "1-1-101", "choice": "oppose"}, "app", T0)
    with store.transaction() as session:
        assert proposals.close_due(session, emit, T0 + 2 * DAY) == 0
        assert proposals.close_due(session, emit, T0 + 3 * DAY) == 1
    with store.transaction() as session:
        assert proposals.close_due(session, emit, T0 + 4 * DAY) == 0
        with pytest.raises(Conflict, match="voting has closed"):
            proposals.vote(session, "t1", proposal["id"], {"household": "9-1-101", "choice": "oppose"}, "app", T0)
        final = proposals.to_dict(session, proposals.proposal_of(session, "t1", proposal["id"]))
    assert (final["status"], final["outcome"]) == ("closed", "passed")
    assert final["tally"] == {"support": 2, "oppose": 1, "abstain": 1}
    assert emit.of("proposal.closed") == [
        {
            "proposal_id": proposal["id"],
            "estate_id": estate_id,
            "title": "安装电动车充电桩",
            "outcome": "passed",
            "support": 2,
            "oppose": 1,
            "abstain": 1,
        }
    ]
    assert proposals.outcome(0, 0, 0) == "no_votes" and proposals.outcome(1, 1, 5) == "rejected"


def test_the_board_shows_resolved_cases_without_names_or_phones(store):
    emit = Emitted()
    case = new_case(store, emit)
    new_case(store, emit)  # another estate
    close(store, emit, case["id"], at=T0 + 5 * HOUR, note="已更换 LED 灯")
    with store.transaction() as session:
        ratings.record(session, "t1", case["id"], "s1", 4)  # from anyone holding the link: not shown
    with store.read() as session:
        assert [e["satisfaction"] for e in board.board(session, case["estate_id"], {"limit": 20}, None)["data"]] == [
            None
        ]
    with store.transaction() as session:
        ratings.record(session, "t1", case["id"], "s2", 5, verified=True)  # a resident the community confirmed
    with store.read() as session:
        shown = board.board(session, case["estate_id"], {"limit": 20}, None)
        with pytest.raises(NotFound):
            board.board(session, case["estate_id"], {"limit": 20}, "t2")
    assert shown == {
        "estate_id": case["estate_id"],
        "estate_name": "东方现代城",
        "has_more": False,
        "data": [
            {
                "case_id": case["id"],
                "category": "repair",
                "category_name": "水电维修",
                "title": "楼道灯不亮",
                "building": "3号楼",
                "status": "closed",
                "submitted_at": "2026-11-28T02:00:00.000000Z",
                "resolved_at": "2026-11-28T07:00:00.000000Z",
                "hours_to_resolve": 5.0,
                "resolution": "已更换 LED 灯",
                "satisfaction": 5,
                "photos": [],  # none published
            }
        ],
    }
    assert "陈先生" not in str(shown) and "13912345678" not in str(shown) and "501" not in str(shown)


def test_an_incident_resolves_its_merged_cases_and_closes_them_with_its_id(store):
    emit = Emitted()
    first = new_case(store, emit)
    with store.transaction() as session:
        incident = incidents.declare(
            session,
            emit,
            "t1",
            {
                "estate_id": first["estate_id"],
                "kind": "water_outage",
                "title": "停水",
                "description": "管道抢修",
                "severity": "critical",
                "expected_end": T0 + 2 * DAY,
            },
            "staff",
            T0,
        )
        incidents.merge(session, emit, "t1", incident["id"], [first["id"], first["id"]], "staff")
        with pytest.raises(ValidationFailed):
            incidents.merge(session, emit, "t1", incident["id"], ["nope"], "staff")
        done = incidents.resolve(session, emit, "t1", incident["id"], {"resolution": "恢复供水"}, "staff", T0 + DAY)
        with pytest.raises(Conflict):
            incidents.resolve(session, emit, "t1", incident["id"], {"resolution": "again"}, "staff", T0 + DAY)
    assert done["status"] == "resolved" and done["case_ids"] == [first["id"]]
    assert emit.of("incident.declared")[0] == {
        "incident_id": incident["id"],
        "estate_id": first["estate_id"],
        "kind": "water_outage",
        "title": "停水",
        "description": "管道抢修",
        "expected_end": "2026-11-30T02:00:00.000000Z",
        "severity": "critical",
    }
    closed = emit.of("case.closed")
    assert [(c["case_id"], c["incident_id"], c["status"]) for c in closed] == [(first["id"], incident["id"], "closed")]
    assert len(emit.of("incident.resolved")) == 1
