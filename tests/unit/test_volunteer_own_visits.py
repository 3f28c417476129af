"""What a volunteer sees of their own visits (services.volunteers.personal) and accepting one,
against a real (SQLite) database: the resident's phone only on their open visit, the states
the page shows, and an accept that only the visit's own volunteer can make while it is open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.errors import Conflict, NotFound
from services.volunteers import personal, visits
from services.volunteers.models import Visit, Volunteer
from tests.support.visits import NOW, TENANT, close_case, visit_row, volunteer

pytestmark = pytest.mark.unit


def test_a_phone_is_found_in_every_company_it_volunteers_for(db):
    volunteer(db, "张红梅", "+8613800000001")  # as the registry stores it (the API's schema makes it E.164)
    with db.transaction() as session:
        session.add(
            Volunteer(id="v-other", tenant="t-2", name="张红梅", phone="+8613800000001", estate_ids=[], skills=[])
        )
    with db.read() as session:
        found = personal.roles(session, "138 0000 0001")
        assert [(r["tenant"], r["name"], r["active"]) for r in found] == [
            (TENANT, "张红梅", True),
            ("t-2", "张红梅", True),
        ]
        assert personal.roles(session, "13800000009") == []
        assert personal.roles(session, "not a phone") == []


def test_states_actions_and_the_residents_phone_only_while_open(db, events):
    holder = volunteer(db, "张红梅", "13800000001")
    visit_id = close_case(db, events, "c-1")
    with db.read() as session:
        fresh = personal.view(session.get(Visit, visit_id), NOW)
        late = personal.view(session.get(Visit, visit_id), NOW + timedelta(days=4))
    assert (fresh["state"], fresh["actions"]) == ("assigned", ["accept", "complete", "decline"])
    assert (fresh["resident_phone"], fresh["building"], fresh["household"]) == ("+8613912345678", "3号楼", "3-2-501")
    assert late["state"] == "overdue"

    with db.transaction() as session:
        visits.accept(session, TENANT, visit_id, holder, now=NOW)
    with db.transaction() as session:  # accepting again changes nothing
        again = visits.accept(session, TENANT, visit_id, holder, now=NOW + timedelta(hours=1))
        assert again.accepted_at == NOW
    with db.read() as session:
        accepted = personal.view(session.get(Visit, visit_id), NOW)
    assert (accepted["state"], accepted["actions"]) == ("accepted", ["complete", "decline"])

    with db.transaction() as session:
        visits.complete(session, events, TENANT, visit_id, "unsatisfied", "没修好", volunteer_id=holder, now=NOW)
    with db.read() as session:
        done = personal.visits_of(session, TENANT, holder, NOW)
    assert [(v["state"], v["outcome"], v["actions"]) for v in done] == [("done", "unsatisfied", [])]
    assert (done[0]["resident_phone"], done[0]["resident_name"]) == (None, None)
    with db.transaction() as session, pytest.raises(Conflict):
        visits.accept(session, TENANT, visit_id, holder, now=NOW)


def test_only_the_visits_own_volunteer_may_see_accept_or_complete_it(db, events):
    volunteer(db, "张红梅", "13800000001")
    volunteer(db, "李建国", "13800000002")
    visit_id = close_case(db, events, "c-1")
    holder = visit_row(db, visit_id).volunteer_id
    with db.read() as session:
        other = next(v.id for v in session.query(Volunteer) if v.id != holder)
        assert personal.visit_of(session, TENANT, holder, visit_id).id == visit_id
        for tenant, who in ((TENANT, other), ("t-2", holder)):
            with pytest.raises(NotFound):
                personal.visit_of(session, tenant, who, visit_id)
        assert personal.visits_of(session, TENANT, other, NOW) == []
    for act in (
        lambda session: visits.accept(session, TENANT, visit_id, other, now=NOW),
        lambda session: visits.complete(session, events, TENANT, visit_id, "satisfied", None, volunteer_id=other),
    ):
        with db.transaction() as session, pytest.raises(Conflict):
            act(session)
    row = visit_row(db, visit_id)
    assert (row.status, row.accepted_at, row.volunteer_id) == ("scheduled", None, holder)


def test_a_declined_visit_is_not_accepted_by_whoever_gets_it_next(db, events):
    volunteer(db, "张红梅", "13800000001")
    volunteer(db, "李建国", "13800000002")
    visit_id = close_case(db, events, "c-1")
    first = visit_row(db, visit_id).volunteer_id
    with db.transaction() as session:
        visits.accept(session, TENANT, visit_id, first, now=NOW)
    with db.transaction() as session:
        visits.decline(session, events, TENANT, visit_id, first, now=NOW)
    row = visit_row(db, visit_id)
    assert row.volunteer_id != first and row.accepted_at is None
    with db.read() as session, pytest.raises(NotFound):
        personal.visit_of(session, TENANT, first, visit_id)
