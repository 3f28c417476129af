"""A water outage end to end over real RabbitMQ: declare → the notifications service plans the
broadcast → three duplicate cases merge → resolve → every merged case resolved and closed, one
survey per reporter, not more."""

import pytest
from sqlalchemy import select

from services.notifications.models import Broadcast
from services.requests.models import Outbox as RequestsOutbox
from services.surveys.models import Inbox as SurveysInbox
from services.surveys.models import Survey
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration

REPORTERS = (("13912350001", "3-2-501"), ("13912350002", "3-1-201"), ("13912350003", "5-2-602"))


def sent_events(platform, kind, subject=None):
    with platform.store("requests").read() as session:
        query = select(RequestsOutbox).where(RequestsOutbox.type == kind, RequestsOutbox.sent_at.is_not(None))
        if subject is not None:
            query = query.where(RequestsOutbox.subject == subject)
        return session.scalars(query).all()


def test_a_water_outage_is_broadcast_merges_duplicates_and_surveys_each_reporter_once(platform, company):
    declared = company.post(
        "/api/v1/incidents",
        {
            "estate_id": company.estate_id,
            "kind": "water_outage",
            "title": "3号楼、5号楼停水",
            "description": "主管道爆裂，正在抢修，送水车在3号楼门口",
            "severity": "critical",
            "expected_end": "2099-12-01T18:00:00+08:00",
        },
    )
    assert declared.status_code == 201, declared.text
    incident = declared.json()
    assert (incident["status"], incident["case_ids"]) == ("declared", [])
    assert declared.headers["Location"] == f"/api/v1/incidents/{incident['id']}"

    # The event left through the outbox and the notifications service planned the broadcast.
    [event] = wait_for(lambda: sent_events(platform, "incident.declared", incident["id"]))
    assert event.body["data"] == {
        "incident_id": incident["id"],
        "estate_id": company.estate_id,
        "kind": "water_outage",
        "title": "3号楼、5号楼停水",
        "description": "主管道爆裂，正在抢修，送水车在3号楼门口",
        "expected_end": "2099-12-01T10:00:00.000000Z",
        "severity": "critical",
    }

    def broadcasts():
        with platform.store("notifications").read() as session:
            return session.scalars(select(Broadcast).where(Broadcast.idempotency_key == event.event_id)).all()

    def broadcasts_of_kind(kind):
        with platform.store("notifications").read() as session:
            return session.scalars(select(Broadcast).where(Broadcast.kind == kind)).all()

    [broadcast] = wait_for(broadcasts)
    assert (broadcast.kind, broadcast.critical, broadcast.tenant) == ("incident.declared", True, company.tenant_id)
    assert broadcast.topic == {"estate_ids": [company.estate_id]}

    duplicates = [
        company.case(company.estate_id, phone=phone, household=household, title="家里没水", category="repair")
        for phone, household in REPORTERS
    ]
    case_ids = [c["id"] for c in duplicates]
    update = company.post(f"/api/v1/incidents/{incident['id']}/updates", {"body": "送水车已到5号楼"})
    assert update.status_code == 200, update.text
    [updated] = wait_for(lambda: sent_events(platform, "incident.updated", incident["id"]))
    [told] = wait_for(
        lambda: [b for b in broadcasts_of_kind("incident.updated") if b.idempotency_key == updated.event_id]
    )
    assert (told.critical, told.topic, told.template) == (True, {"estate_ids": [company.estate_id]}, "incident.updated")
    assert told.variables["update"] == "送水车已到5号楼。"
    merged = company.post(f"/api/v1/incidents/{incident['id']}/cases", {"case_ids": case_ids})
    assert merged.status_code == 200, merged.text
    assert merged.json()["case_ids"] == sorted(case_ids)
    for case_id in case_ids:
        case = company.get(f"/api/v1/cases/{case_id}").json()
        assert (case["status"], case["incident_id"]) == ("merged", incident["id"])

    resolved = company.post(f"/api/v1/incidents/{incident['id']}/resolve", {"resolution": "管道已修复，恢复供水"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert [u["body"] for u in resolved.json()["updates"]] == ["送水车已到5号楼"]
    for case_id in case_ids:
        case = company.get(f"/api/v1/cases/{case_id}").json()
        assert case["status"] == "closed"
        assert [h["to_status"] for h in case["history"]][-3:] == ["merged", "resolved", "closed"]
        assert case["history"][-2]["note"] == "管道已修复，恢复供水"
    assert company.post(f"/api/v1/incidents/{incident['id']}/resolve", {"resolution": "x"}).status_code == 409
    wait_for(lambda: sent_events(platform, "incident.resolved", incident["id"]))

    # Surveys: wait until the surveys service has consumed every case.closed, then count.
    closed = [e for case_id in case_ids for e in wait_for(lambda c=case_id: sent_events(platform, "case.closed", c))]
    assert [e.body["data"]["incident_id"] for e in closed] == [incident["id"]] * 3
    closed_events = [e.event_id for e in closed]

    def consumed():
        with platform.store("surveys").read() as session:
            rows = session.scalars(
                select(SurveysInbox.event_id).where(
                    SurveysInbox.event_id.in_(closed_events), SurveysInbox.handler == "on_case_closed"
                )
            ).all()
        return len(rows) == 3

    wait_for(consumed)
    with platform.store("surveys").read() as session:
        surveys = session.scalars(select(Survey).where(Survey.case_id.in_(case_ids))).all()
    assert sorted(s.respondent_household for s in surveys) == sorted(h for _, h in REPORTERS)
    assert len(surveys) == 3


def test_a_household_that_reported_twice_is_surveyed_once(platform, company):
    """Merged duplicates close together: their case.closed events race, one survey wins."""
    incident = company.post(
        "/api/v1/incidents",
        {"estate_id": company.estate_id, "kind": "power_outage", "title": "7号楼停电", "description": "抢修中"},
    ).json()
    same_home = [
        company.case(company.estate_id, phone="13912350011", household="7-1-101", title="家里停电"),
        company.case(company.estate_id, phone="13912350011", household="7-1-101", title="又停电了"),
        company.case(company.estate_id, phone="13912350012", household="7-1-102", title="停电"),
    ]
    case_ids = [c["id"] for c in same_home]
    assert company.post(f"/api/v1/incidents/{incident['id']}/cases", {"case_ids": case_ids}).status_code == 200
    assert company.post(f"/api/v1/incidents/{incident['id']}/resolve", {"resolution": "已恢复供电"}).status_code == 200
    closed = [e.event_id for c in case_ids for e in wait_for(lambda c=c: sent_events(platform, "case.closed", c))]

    def consumed():
        with platform.store("surveys").read() as session:
            return (
                len(
                    session.scalars(
                        select(SurveysInbox.event_id).where(
                            SurveysInbox.event_id.in_(closed), SurveysInbox.handler == "on_case_closed"
                        )
                    ).all()
                )
                == 3
            )

    wait_for(consumed)
    with platform.store("surveys").read() as session:
        surveys = session.scalars(select(Survey).where(Survey.case_id.in_(case_ids))).all()
    assert sorted(s.respondent_household for s in surveys) == ["7-1-101", "7-1-102"]
