"""The volunteers HTTP API end to end: registry, teams, decline, hours ledger (real broker + DB)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.volunteers.models import Outbox
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def patch(api, path, body):
    return api.lx.http.patch(api.lx.base_url + path, json=body, headers=api.headers, timeout=15)


def delete(api, path):
    return api.lx.http.delete(api.lx.base_url + path, headers=api.headers, timeout=15)


def register(api, name, phone, **fields):
    body = {"name": name, "phone": phone, "estate_ids": [api.estate_id], "skills": ["visit"]} | fields
    response = api.post("/api/v1/volunteers", body)
    assert response.status_code == 201, response.text
    return response.json()


def test_registry_validates_pauses_and_keeps_tenants_apart(company, second_company):
    slots = [{"weekday": 5, "start": "09:00", "end": "11:00"}]
    volunteer = register(company, "王秀兰", "13800000201", party_member=True, availability=slots)
    assert (volunteer["party_member"], volunteer["availability"], volunteer["team_ids"]) == (True, slots, [])

    dup = company.post(
        "/api/v1/volunteers", {"name": "重名", "phone": "+86 138 0000 0201", "estate_ids": [company.estate_id]}
    )
    assert dup.status_code == 409
    bad = company.post(
        "/api/v1/volunteers",
        {
            "name": "x",
            "phone": "12345",
            "estate_ids": [company.estate_id],
            "availability": [{"weekday": 1, "start": "10:00", "end": "09:00"}],
        },
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"phone", "availability"}
    # The same phone may volunteer with another property company.
    assert (
        second_company.post(
            "/api/v1/volunteers", {"name": "王秀兰", "phone": "13800000201", "estate_ids": [second_company.estate_id]}
        ).status_code
        == 201
    )

    paused = patch(company, f"/api/v1/volunteers/{volunteer['id']}", {"active": False, "skills": ["visit", "escort"]})
    assert paused.status_code == 200, paused.text
    assert (paused.json()["active"], paused.json()["skills"]) == (False, ["escort", "visit"])
    assert patch(company, f"/api/v1/volunteers/{volunteer['id']}", {"estate_ids": ["nope"]}).status_code == 422
    assert second_company.get(f"/api/v1/volunteers/{volunteer['id']}").status_code == 404
    assert patch(second_company, f"/api/v1/volunteers/{volunteer['id']}", {"active": True}).status_code == 404
    assert company.get(f"/api/v1/volunteers/{volunteer['id']}").json()["active"] is False


def test_teams_have_a_member_leader_and_shared_members(company, second_company):
    a, b = company.volunteers
    created = company.post(
        "/api/v1/teams", {"name": "义务维修队", "leader_id": a["id"], "member_ids": [a["id"], b["id"]]}
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert (team["leader_id"], team["member_ids"]) == (a["id"], sorted([a["id"], b["id"]]))
    choir = company.post("/api/v1/teams", {"name": "红歌合唱队", "leader_id": b["id"], "member_ids": [b["id"]]}).json()
    assert company.get(f"/api/v1/volunteers/{b['id']}").json()["team_ids"] == sorted([team["id"], choir["id"]])

    assert (
        company.post("/api/v1/teams", {"name": "义务维修队", "leader_id": a["id"], "member_ids": [a["id"]]}).status_code
        == 409
    )
    not_member = company.post("/api/v1/teams", {"name": "党员突击队", "leader_id": a["id"], "member_ids": [b["id"]]})
    assert not_member.status_code == 422 and "leader_id" in not_member.json()["errors"]
    outsider = second_company.volunteers[0]["id"]
    foreign = company.post("/api/v1/teams", {"name": "党员突击队", "leader_id": outsider, "member_ids": [outsider]})
    assert foreign.status_code == 422 and "member_ids" in foreign.json()["errors"]

    assert delete(company, f"/api/v1/teams/{team['id']}/members/{a['id']}").status_code == 409  # the leader
    assert patch(company, f"/api/v1/teams/{team['id']}", {"leader_id": b["id"]}).status_code == 200
    left = delete(company, f"/api/v1/teams/{team['id']}/members/{a['id']}")
    assert left.status_code == 200 and left.json()["member_ids"] == [b["id"]]
    assert patch(company, f"/api/v1/teams/{team['id']}", {"leader_id": a["id"]}).status_code == 422
    assert second_company.get(f"/api/v1/teams/{team['id']}").status_code == 404


def test_decline_reassigns_and_a_completed_visit_credits_hours_with_corrections(platform, company, second_company):
    case = company.case(company.estate_id, phone="13912340001")
    company.close(case["id"])
    visit = wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])[0]
    first = visit["volunteer_id"]
    other = next(v["id"] for v in company.volunteers if v["id"] != first)

    assert second_company.post(f"/api/v1/visits/{visit['id']}/decline", {"volunteer_id": first}).status_code == 404
    assert company.post(f"/api/v1/visits/{visit['id']}/decline", {"volunteer_id": other}).status_code == 409
    declined = company.post(f"/api/v1/visits/{visit['id']}/decline", {"volunteer_id": first})
    assert declined.status_code == 200, declined.text
    assert (declined.json()["volunteer_id"], declined.json()["declined_by"]) == (other, [first])
    with platform.store("volunteers").read() as session:
        told = session.scalars(
            select(Outbox)
            .where(Outbox.subject == visit["id"], Outbox.type == "visit.scheduled")
            .order_by(Outbox.id)  # in the order they were staged (PostgreSQL returns rows in any order)
        ).all()
    assert [row.body["data"]["volunteer_id"] for row in told] == [first, other]
    schedule = company.get(f"/api/v1/volunteers/{other}/schedule").json()["data"]
    assert [(item["kind"], item["id"]) for item in schedule] == [("visit", visit["id"])]

    done = company.post(f"/api/v1/visits/{visit['id']}/complete", {"outcome": "satisfied", "hours": 1.5})
    assert done.status_code == 200, done.text
    (line,) = company.get(f"/api/v1/hours?volunteer_id={other}").json()["data"]
    assert (line["source"], line["source_id"], line["hours"]) == ("visit", visit["id"], 1.5)
    fix = company.post(
        "/api/v1/hours/corrections", {"corrects_entry_id": line["id"], "hours": -0.5, "reason": "按1小时计"}
    )
    assert fix.status_code == 201, fix.text
    assert (
        second_company.post(
            "/api/v1/hours/corrections", {"corrects_entry_id": line["id"], "hours": 1, "reason": "x"}
        ).status_code
        == 404
    )
    ledger = company.get(f"/api/v1/hours?volunteer_id={other}").json()["data"]
    assert [(e["source"], e["minutes"], e["corrects_entry_id"]) for e in ledger] == [
        ("visit", 90, None),
        ("correction", -30, line["id"]),
    ]
    totals = company.get("/api/v1/hours/totals?by=volunteer").json()["data"]
    assert totals == [
        {
            "key": other,
            "name": next(v["name"] for v in company.volunteers if v["id"] == other),
            "hours": 1.0,
            "minutes": 60,
            "entries": 2,
        }
    ]
    by_estate = company.get("/api/v1/hours/totals?by=estate").json()["data"]
    assert [(t["key"], t["minutes"]) for t in by_estate] == [(company.estate_id, 60)]
    ranking = company.get("/api/v1/hours/ranking").json()["data"]
    assert [(r["rank"], r["volunteer_id"], r["hours"]) for r in ranking] == [(1, other, 1.0)]
    assert "phone" not in ranking[0]
    assert company.get("/api/v1/hours/totals?by=shoe-size").status_code == 422
    assert second_company.get("/api/v1/hours/totals").json()["data"] == []
