"""Campaigns: one survey (so one answer) per household, links sent at once, response rate tracked."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common import outbox
from services.common.db import Store, make_engine
from services.common.envelope import make_event
from services.common.errors import Conflict, NotFound, ValidationFailed, validated
from services.surveys import answers, campaigns, statistics
from services.surveys.models import Base, Outbox, Survey
from services.surveys.schemas import CampaignCreateSchema

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 1, 0, 0)
BASE = "https://lx.example"


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/surveys.sqlite3")
    Base.metadata.create_all(engine)
    yield Store(engine)
    engine.dispose()


class Emitted(list):
    def __call__(self, session, type, subject, tenant, data):
        event = make_event(source_service="surveys", type=type, subject=subject, tenant=tenant, data=data)
        outbox.record(session, Outbox, event)
        self.append((type, subject, tenant, data))
        return event


def household(estate, number, phone):
    return {"estate_id": estate, "household": number, "name": "业主", "phone": phone}


PAYLOAD = {
    "title": "2026年第四季度物业服务满意度调查",
    "households": [
        household("e1", "1-1-101", "13900000001"),
        household("e1", "1-1-102", "13900000002"),
        household("e1", "1-1-101", "13900000009"),  # the same household again: asked once
        household("e2", "2-1-101", "13900000003"),
    ],
}


def start(store, tenant="t1", payload=PAYLOAD):
    emit = Emitted()
    with store.transaction() as session:
        created = campaigns.create(session, emit, tenant, validated(CampaignCreateSchema(), payload), BASE, T0)
    return created, emit


def test_every_household_gets_one_link_at_once(store):
    created, emit = start(store)
    assert {k: created[k] for k in ("households", "answered", "response_rate", "open", "duplicates_skipped")} == {
        "households": 3,
        "answered": 0,
        "response_rate": 0.0,
        "open": True,
        "duplicates_skipped": 1,
    }
    assert created["estate_ids"] == ["e1", "e2"]
    assert [e[0] for e in emit] == ["survey.issued"] * 3
    assert sorted(e[3]["recipient"]["phone"] for e in emit) == ["+8613900000001", "+8613900000002", "+8613900000003"]
    assert len({e[3]["link"] for e in emit}) == 3
    assert all(e[3]["case_title"] == PAYLOAD["title"] for e in emit)


def test_answers_move_the_response_rate_and_a_household_answers_once(store):
    created, emit = start(store)
    links = {e[3]["recipient"]["household"]: e[3]["link"].rsplit("/s/", 1)[1] for e in emit}
    with store.transaction() as session:
        answers.answer(session, Emitted(), links["1-1-101"], {"score": 4}, T0 + timedelta(hours=1))
    with store.transaction() as session, pytest.raises(Conflict):
        answers.answer(session, Emitted(), links["1-1-101"], {"score": 1}, T0 + timedelta(hours=2))
    with store.read() as session:
        progress = campaigns.progress(session, "t1", created["id"], T0 + timedelta(hours=3))
        [figures] = statistics.for_tenant(session, "t1", {"group_by": ["category"]})
    assert (progress["answered"], progress["response_rate"]) == (1, 0.3333)
    assert progress["estates"] == [
        {"estate_id": "e1", "households": 2, "answered": 1, "response_rate": 0.5},
        {"estate_id": "e2", "households": 1, "answered": 0, "response_rate": 0.0},
    ]
    assert (figures["category"], figures["issued"], figures["responses"], figures["csat"]) == ("campaign", 3, 1, 1.0)


def test_a_second_survey_for_a_household_of_the_campaign_cannot_exist(store):
    created, _ = start(store)
    with store.read() as session:
        first = session.scalars(select(Survey).where(Survey.respondent_household == "1-1-101")).one()
    with pytest.raises(IntegrityError), store.transaction() as session:
        twin = {c.name: getattr(first, c.name) for c in Survey.__table__.columns}
        session.add(Survey(**twin | {"id": "other", "closure_event_id": "other"}))


def test_another_tenant_cannot_see_the_campaign(store):
    created, _ = start(store)
    with store.read() as session:
        with pytest.raises(NotFound):
            campaigns.progress(session, "t2", created["id"], T0)
        assert campaigns.listing(session, "t2", T0) == []
        assert [c["id"] for c in campaigns.listing(session, "t1", T0)] == [created["id"]]


def test_campaign_input_is_validated_row_by_row():
    with pytest.raises(ValidationFailed) as failed:
        validated(
            CampaignCreateSchema(),
            {"title": " ", "households": [household("e1", "1-1-101", "12345"), {"estate_id": "e1"}]},
        )
    errors = failed.value.errors
    assert set(errors) == {"title", "households"}
    assert set(errors["households"]) == {0, 1}
    assert set(errors["households"][0]) == {"phone"}
    assert set(errors["households"][1]) == {"household", "name", "phone"}
    with pytest.raises(ValidationFailed):
        validated(CampaignCreateSchema(), {"title": "x", "households": []})
