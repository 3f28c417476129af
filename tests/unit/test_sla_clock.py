"""SLA clocks with frozen time: due times per category and priority, the pause while waiting on
the resident, restart on reopen, and breaches reported by the timer exactly once per stage —
also with two instances scanning one database."""

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from services.common.db import Store, make_engine
from services.requests import breaches, cases, categories, sla
from services.requests.models import Base, Case, CaseChange, Outbox
from tests.support.cases import HOUR, T0, Emitted, move, new_case

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/requests.sqlite3")
    Base.metadata.create_all(engine)
    yield Store(engine)
    engine.dispose()


class Instance:
    """What ``breaches.scan`` sees as ``self.db`` in one running service instance."""

    def __init__(self, store, emit):
        self.store, self.emit = store, emit

    def read(self):
        return self.store.read()

    def transaction(self):
        return self.store.transaction()


# --- pure -------------------------------------------------------------------------------------


def test_due_times_come_from_the_policy_and_are_pushed_back_by_pauses():
    policy = sla.Policy(response_hours=2, resolution_hours=48)
    assert sla.due_times(T0, policy) == (T0 + 2 * HOUR, T0 + 48 * HOUR)
    assert sla.due_times(T0, policy, paused_seconds=5400) == (T0 + 3.5 * HOUR, T0 + 49.5 * HOUR)


def test_a_resume_adds_the_wait_just_ended():
    assert sla.paused_seconds_after_resume(600, T0, T0 + HOUR) == 4200
    assert sla.paused_seconds_after_resume(600, None, T0 + HOUR) == 600


def test_priority_scales_the_category_hours():
    repair = categories.DEFAULT_CATEGORIES["repair"]
    assert repair.name == "水电维修"
    assert repair.policy("normal") == sla.Policy(2, 48)
    assert repair.policy("urgent") == sla.Policy(0.5, 12)
    assert repair.policy("low") == sla.Policy(4, 96)
    assert [c.name for c in categories.DEFAULT_CATEGORIES.values()] == [
        "水电维修", "公共设施", "环境卫生", "安全隐患", "噪音扰民", "停车管理", "投诉", "建议", "咨询", "紧急",
    ]  # fmt: skip


def clock(status, **extra):
    return sla.Clock(status, T0, 0, None, T0 + 2 * HOUR, T0 + 48 * HOUR, **extra)


def test_breaches_are_found_per_stage_and_only_while_their_clock_runs():
    assert sla.breaches(clock("submitted"), T0 + 2 * HOUR) == []  # due, not past due
    assert sla.breaches(clock("submitted"), T0 + 3 * HOUR) == ["response"]
    assert sla.breaches(clock("accepted"), T0 + 3 * HOUR) == []
    assert sla.breaches(clock("submitted"), T0 + 49 * HOUR) == ["response", "resolution"]
    assert sla.breaches(clock("in_progress"), T0 + 49 * HOUR) == ["resolution"]
    assert sla.breaches(clock("waiting_resident"), T0 + 49 * HOUR) == []  # paused
    assert sla.breaches(clock("resolved"), T0 + 49 * HOUR) == []
    assert sla.breaches(clock("merged"), T0 + 49 * HOUR) == []
    assert sla.breaches(clock("submitted", response_breached_at=T0 + 3 * HOUR), T0 + 4 * HOUR) == []
    assert sla.overdue(clock("assigned"), T0 + 49 * HOUR) and not sla.overdue(clock("assigned"), T0 + 3 * HOUR)


# --- on a case --------------------------------------------------------------------------------


def test_due_times_are_computed_at_submission_and_shown_on_the_case(store):
    case = new_case(store, Emitted(), category="emergency", priority="high")
    assert case["response_due_at"] == "2026-11-28T02:15:00.000000Z"  # 0.5 h × 0.5
    assert case["resolution_due_at"] == "2026-11-28T04:00:00.000000Z"  # 4 h × 0.5
    assert case["sla_paused"] is False


def test_waiting_on_the_resident_pauses_the_clock_and_resuming_pushes_the_due_time_back(store):
    emit = Emitted()
    case = new_case(store, emit)
    move(store, emit, case["id"], "accept", T0 + HOUR)
    move(store, emit, case["id"], "assign", T0 + HOUR, assignee="王师傅")
    move(store, emit, case["id"], "start", T0 + 2 * HOUR)
    waiting = move(store, emit, case["id"], "wait_resident", T0 + 10 * HOUR, note="业主出差，约定周一上门")
    assert waiting["sla_paused"] is True
    assert waiting["resolution_due_at"] == "2026-11-30T02:00:00.000000Z"
    # The original due time passes while the case waits: nothing is breached.
    assert breaches.scan(Instance(store, emit), T0 + 60 * HOUR) == 0
    resumed = move(store, emit, case["id"], "resume", T0 + 70 * HOUR)
    assert resumed["sla_paused"] is False
    assert resumed["resolution_due_at"] == "2026-12-02T14:00:00.000000Z"  # 48 h + 60 h waited
    assert breaches.scan(Instance(store, emit), T0 + 100 * HOUR) == 0
    assert breaches.scan(Instance(store, emit), T0 + 109 * HOUR) == 1
    assert [e["stage"] for e in emit.of("case.sla_breached")] == ["resolution"]


def test_the_timer_reports_each_stage_once_and_escalates(store):
    emit = Emitted()
    case = new_case(store, emit)
    db = Instance(store, emit)
    assert breaches.scan(db, T0 + 1 * HOUR) == 0
    assert breaches.scan(db, T0 + 3 * HOUR) == 1
    assert breaches.scan(db, T0 + 4 * HOUR) == 0  # the same stage is never reported twice
    assert breaches.scan(db, T0 + 49 * HOUR) == 1
    assert breaches.scan(db, T0 + 50 * HOUR) == 0
    assert emit.of("case.sla_breached") == [
        {
            "case_id": case["id"],
            "estate_id": case["estate_id"],
            "stage": "response",
            "due_at": "2026-11-28T04:00:00.000000Z",
            "breached_at": "2026-11-28T05:00:00.000000Z",
            "assignee": None,
            "escalation_level": 1,
        },
        {
            "case_id": case["id"],
            "estate_id": case["estate_id"],
            "stage": "resolution",
            "due_at": "2026-11-30T02:00:00.000000Z",
            "breached_at": "2026-11-30T03:00:00.000000Z",
            "assignee": None,
            "escalation_level": 2,
        },
    ]
    assert [e["level"] for e in emit.of("case.escalated")] == [1, 2]
    with store.read() as session:
        found = cases.to_dict(cases.case_of(session, "t1", case["id"]), T0 + 50 * HOUR)
        changes = session.execute(
            select(CaseChange.field, CaseChange.after).where(CaseChange.case_id == case["id"]).order_by(CaseChange.id)
        ).all()
    assert found["escalation_level"] == 2
    assert [e["level"] for e in found["escalations"]] == [1, 2]
    assert found["response_breached_at"] == "2026-11-28T05:00:00.000000Z"
    assert found["overdue"] is True
    assert [after for field, after in changes if field == "response_breached_at"] == ["2026-11-28T05:00:00.000000Z"]
    assert [after for field, after in changes if field == "escalation_level"] == ["0", "1", "2"]


def test_two_instances_scanning_one_database_report_a_breach_once(store, tmp_path):
    emit = Emitted()
    case = new_case(store, emit)
    other_engine = make_engine(f"sqlite:///{tmp_path}/requests.sqlite3")
    other = Store(other_engine)
    first, second = Emitted(), Emitted()
    now = T0 + 3 * HOUR
    # Both instances find the same candidate before either claims it.
    with store.read() as session:
        seen_by_first = breaches.candidates(session, now)
    with other.read() as session:
        seen_by_second = breaches.candidates(session, now)
    assert seen_by_first == seen_by_second == [(case["id"], "response")]
    with store.transaction() as session:
        assert breaches.claim(session, first, case["id"], "response", now) is True
    with other.transaction() as session:
        assert breaches.claim(session, second, case["id"], "response", now) is False
    other_engine.dispose()
    assert len(first.of("case.sla_breached")) == 1 and second == []
    with store.read() as session:
        staged = session.scalars(select(Outbox.type).where(Outbox.type == "case.sla_breached")).all()
    assert staged == ["case.sla_breached"]


def test_a_reopen_restarts_the_clock_and_goes_back_to_the_last_assignee(store):
    emit = Emitted()
    case = new_case(store, emit)
    for action, extra in (("accept", {}), ("assign", {"assignee": "王师傅"}), ("start", {}), ("resolve", {})):
        move(store, emit, case["id"], action, T0 + HOUR, **extra)
    move(store, emit, case["id"], "close", T0 + 2 * HOUR)
    reopened = move(store, emit, case["id"], "reopen", T0 + 100 * HOUR, note="又不亮了")
    assert reopened["status"] == "reopened"
    assert reopened["assignee"] == "王师傅"
    assert reopened["allowed_actions"] == ["accept", "assign", "start"]
    assert reopened["response_due_at"] == "2026-12-02T08:00:00.000000Z"  # T0 + 100 h + 2 h
    assert reopened["resolution_due_at"] == "2026-12-04T06:00:00.000000Z"
    assert move(store, emit, case["id"], "start", T0 + 101 * HOUR)["status"] == "in_progress"


def test_time_machine_frozen_now_is_what_submission_uses(store):
    with time_machine.travel(datetime(2026, 12, 1, 1, 0, 0), tick=False), store.transaction() as session:
        estate = cases.create_estate(session, "t1", {"name": "X", "address": None, "households": None})
        body = {
            "estate_id": estate["id"], "category": "noise", "title": "夜间施工", "description": "22点后仍在施工",
            "channel": "phone", "priority": "normal",
            "reporter": {"name": "李女士", "phone": "+8613912345678", "household": "5-1-302"},
        }  # fmt: skip
        case = cases.submit(session, Emitted(), "t1", body, "staff")
    assert case["created_at"] == "2026-12-01T01:00:00.000000Z"
    assert case["resolution_due_at"] == "2026-12-02T01:00:00.000000Z"
    with store.read() as session:
        assert session.get(Case, case["id"]).sla_started_at == datetime(2026, 12, 1, 1, 0, 0)


def test_the_case_says_which_clock_runs_and_until_when_none_while_paused_or_done(store):
    """What the workbench's SLA badge shows comes from here (sla.running), not from a template."""
    emit = Emitted()
    case = new_case(store, emit)
    assert (case["sla_stage"], case["sla_due_at"]) == ("response", case["response_due_at"])
    accepted = move(store, emit, case["id"], "accept", T0 + HOUR)
    assert (accepted["sla_stage"], accepted["sla_due_at"]) == ("resolution", accepted["resolution_due_at"])
    move(store, emit, case["id"], "assign", T0 + HOUR, assignee="王师傅")
    move(store, emit, case["id"], "start", T0 + HOUR)
    waiting = move(store, emit, case["id"], "wait_resident", T0 + 2 * HOUR, note="业主出差")
    assert (waiting["sla_stage"], waiting["sla_due_at"], waiting["sla_paused"]) == (None, None, True)
    move(store, emit, case["id"], "resume", T0 + 3 * HOUR)
    resolved = move(store, emit, case["id"], "resolve", T0 + 4 * HOUR)
    assert (resolved["sla_stage"], resolved["sla_due_at"]) == (None, None)


def test_a_transition_on_a_case_that_moved_since_it_was_read_is_stale_and_changes_nothing(store):
    from services.common.errors import Stale
    from services.common.fields import Timestamp

    emit = Emitted()
    case = new_case(store, emit)
    seen = Timestamp().deserialize(case["updated_at"])
    move(store, emit, case["id"], "accept", T0 + HOUR)  # someone else, meanwhile
    before = len(emit)
    with pytest.raises(Stale):
        move(store, emit, case["id"], "cancel", T0 + 2 * HOUR, seen_updated_at=seen)
    with store.read() as session:
        assert session.get(Case, case["id"]).status == "accepted"
    assert len(emit) == before
    fresh = move(store, emit, case["id"], "cancel", T0 + 2 * HOUR, seen_updated_at=T0 + HOUR)
    assert fresh["status"] == "cancelled"
