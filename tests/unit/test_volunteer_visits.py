"""Follow-up visits against a real (SQLite) database, no broker: who gets the visit, decline,
overdue reassignment exactly once across two instances, and hours credited on completion."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from services.common.db import Store, make_engine
from services.common.errors import Conflict, NotFound
from services.volunteers import hours, teams, visits
from services.volunteers.models import HoursEntry
from tests.support.visits import ESTATE, NOW, TENANT, Events, close_case, visit_row, volunteer

pytestmark = pytest.mark.unit


class Instance:
    """What a service instance passes to the sweep: its own engine on the shared database."""

    def __init__(self, url: str, events: Events) -> None:
        self.store = Store(make_engine(url))
        self.emit = events
        self.read = self.store.read
        self.transaction = self.store.transaction


def test_the_case_handler_is_never_sent_even_when_least_busy(db, events):
    handler = volunteer(db, "王师傅", "13800000001")
    other = volunteer(db, "张红梅", "13800000002")
    close_case(db, events, "c-0", assignee="nobody")  # other-than-handler load: someone now has one visit
    first = visit_row(db, close_case(db, events, "c-1", assignee="王师傅"))
    assert first.volunteer_id != handler
    second = visit_row(db, close_case(db, events, "c-2", assignee=handler))  # named by id as well
    assert second.volunteer_id == other


def test_a_volunteer_not_available_in_the_next_three_days_is_skipped(db, events):
    # NOW is Wednesday 10:00 Shanghai; the window runs to Saturday 10:00.
    volunteer(db, "周一才有空", "13800000001", availability=[{"weekday": 0, "start": "09:00", "end": "11:00"}])
    friday = volunteer(db, "周五有空", "13800000002", availability=[{"weekday": 4, "start": "14:00", "end": "16:00"}])
    for n in range(3):
        assert visit_row(db, close_case(db, events, f"c-{n}")).volunteer_id == friday


def test_paused_or_unskilled_volunteers_get_nothing_and_the_visit_is_left_for_staff(db, events):
    volunteer(db, "暂停", "13800000001", active=False)
    volunteer(db, "维修", "13800000002", skills=("repair",))
    visit = visit_row(db, close_case(db, events, "c-1"))
    assert visit.volunteer_id is None
    assert events.of("visit.scheduled")[0]["volunteer_id"] is None


def test_decline_reassigns_to_the_next_fairest_and_tells_the_new_volunteer(db, events):
    a = volunteer(db, "甲", "13800000001")
    b = volunteer(db, "乙", "13800000002")
    visit_id = close_case(db, events, "c-1")
    first = visit_row(db, visit_id).volunteer_id
    second = b if first == a else a
    with db.transaction() as session:
        declined = visits.decline(session, events, TENANT, visit_id, first, now=NOW)
    assert declined["volunteer_id"] == second
    assert declined["declined_by"] == [first]
    assert [e["volunteer_id"] for e in events.of("visit.scheduled")] == [first, second]
    with db.transaction() as session:  # the second declines too: nobody left, staff decide
        assert visits.decline(session, events, TENANT, visit_id, second, now=NOW)["volunteer_id"] is None
    assert len(events.of("visit.scheduled")) == 2


def test_only_the_assigned_volunteer_can_decline_and_other_tenants_see_nothing(db, events):
    a = volunteer(db, "甲", "13800000001")
    b = volunteer(db, "乙", "13800000002")
    visit_id = close_case(db, events, "c-1")
    holder = visit_row(db, visit_id).volunteer_id
    other = b if holder == a else a
    with pytest.raises(Conflict), db.transaction() as session:
        visits.decline(session, events, TENANT, visit_id, other, now=NOW)
    with pytest.raises(NotFound), db.transaction() as session:
        visits.decline(session, events, "another-tenant", visit_id, holder, now=NOW)
    assert visit_row(db, visit_id).volunteer_id == holder


def test_overdue_is_reassigned_once_then_left_for_staff_exactly_once_across_two_instances(url, db, events):
    a = volunteer(db, "甲", "13800000001")
    b = volunteer(db, "乙", "13800000002")
    visit_id = close_case(db, events, "c-1")
    holder = visit_row(db, visit_id).volunteer_id
    other = b if holder == a else a
    one, two = Instance(url, events), Instance(url, events)

    late = NOW + timedelta(days=3, minutes=1)
    with one.read() as session:
        seen_by_one = visits.overdue(session, late)
    with two.read() as session:
        seen_by_two = visits.overdue(session, late)
    assert seen_by_one == seen_by_two == [(TENANT, visit_id, 0)]  # both instances saw it
    with one.transaction() as session:
        assert visits.handle_overdue(session, events, TENANT, visit_id, 0, late) is True
    with two.transaction() as session:
        assert visits.handle_overdue(session, events, TENANT, visit_id, 0, late) is False

    moved = visit_row(db, visit_id)
    assert (moved.volunteer_id, moved.taken_from, moved.overdue_count) == (other, [holder], 1)
    assert moved.due_at == late + timedelta(days=3)
    name, phone = {a: ("甲", "13800000001"), b: ("乙", "13800000002")}[holder]
    assert events.of("visit.overdue") == [
        {
            "visit_id": visit_id,
            "case_id": "c-1",
            "estate_id": ESTATE,
            "case_title": "楼道灯不亮",
            "volunteer_id": holder,
            "volunteer_name": name,
            "volunteer_phone": phone,
            "due_at": "2026-12-05T02:00:00Z",
            "reassigned_to": other,
        }
    ]
    assert events.of("visit.scheduled")[-1]["volunteer_id"] == other

    later = late + timedelta(days=3, minutes=1)
    assert visits.sweep_overdue(one, later) == 1
    assert visits.sweep_overdue(two, later) == 0
    assert visits.sweep_overdue(one, later + timedelta(days=30)) == 0  # staff have it now
    left = visit_row(db, visit_id)
    assert (left.volunteer_id, left.overdue_count, left.status) == (None, visits.LEFT_FOR_STAFF, "scheduled")
    assert [(e["volunteer_id"], e["reassigned_to"]) for e in events.of("visit.overdue")] == [
        (holder, other),
        (other, None),
    ]


def test_completion_credits_hours_once_and_a_completed_visit_cannot_change(db, events):
    volunteer(db, "甲", "13800000001")
    visit_id = close_case(db, events, "c-1")
    with db.transaction() as session:
        done = visits.complete(session, events, TENANT, visit_id, "unsatisfied", "灯又坏了", 1.5, now=NOW)
    assert done["status"] == "completed"
    assert events.of("visit.completed")[0]["outcome"] == "unsatisfied"
    with pytest.raises(Conflict), db.transaction() as session:
        visits.complete(session, events, TENANT, visit_id, "satisfied", None, 1.0, now=NOW)
    with db.read() as session:
        lines = session.scalars(select(HoursEntry)).all()
    assert [(line.source, line.source_id, line.minutes) for line in lines] == [("visit", visit_id, 90)]
    with db.transaction() as session:  # crediting the same source again changes nothing
        again = hours.credit(
            session,
            TENANT,
            volunteer_id=lines[0].volunteer_id,
            estate_id=ESTATE,
            minutes=60,
            reason="dup",
            source="visit",
            source_id=visit_id,
            served_at=NOW,
        )
    assert again is None


def test_reopened_case_cancels_the_open_visit(db, events):
    volunteer(db, "甲", "13800000001")
    visit_id = close_case(db, events, "c-1")
    with db.transaction() as session:
        assert visits.cancel_pending(session, TENANT, "c-1", "case reopened") == 1
    assert visit_row(db, visit_id).status == "cancelled"


def test_thirty_closures_spread_ten_ten_ten_with_availability_loaded(db, events):
    slots = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]
    ids = {volunteer(db, f"志愿者{n}", f"1380000000{n}", availability=slots) for n in range(3)}
    chosen = [
        visit_row(db, close_case(db, events, f"c-{n}", now=NOW.replace(tzinfo=UTC))).volunteer_id for n in range(30)
    ]
    assert {v: chosen.count(v) for v in ids} == dict.fromkeys(ids, 10)


def test_when_a_team_handled_the_case_none_of_its_members_is_sent(db, events):
    fixer = volunteer(db, "维修队员", "13800000001")
    outsider = volunteer(db, "回访员", "13800000002")
    with db.transaction() as session:
        teams.create(
            session, TENANT, {"name": "义务维修队", "description": None, "leader_id": fixer, "member_ids": [fixer]}
        )
    chosen = {visit_row(db, close_case(db, events, f"c-{n}", assignee="义务维修队")).volunteer_id for n in range(3)}
    assert chosen == {outsider}
