"""Fixtures of the security suite: a tenant with one of everything, and another tenant."""

from __future__ import annotations

import pytest

from services.common.testing import wait_for


@pytest.fixture(scope="package")
def victim(platform):
    """A tenant with one of everything: the ids another tenant will try."""
    from tests.conftest import new_company

    company = new_company(platform)
    case = company.case(company.estate_id, phone="13912349001")
    company.close(case["id"])
    visit = wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])[0]
    wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"])
    company.ids = {
        "case_id": case["id"],
        "visit_id": visit["id"],
        "volunteer_id": company.volunteers[0]["id"],
        "estate_id": company.estate_id,
    }
    incident = company.post(
        "/api/v1/incidents",
        {"estate_id": company.estate_id, "kind": "water_outage", "title": "停水", "description": "抢修"},
    )
    from datetime import timedelta

    from services.common.db import utcnow

    closes_at = (utcnow() + timedelta(days=7)).isoformat() + "Z"
    proposal = company.post(
        "/api/v1/proposals",
        {"estate_id": company.estate_id, "title": "充电桩", "description": "车库", "closes_at": closes_at},
    )
    company.ids["incident_id"] = incident.json()["id"]
    company.ids["proposal_id"] = proposal.json()["id"]
    leader = company.volunteers[0]["id"]
    team = company.post("/api/v1/teams", {"name": "义务维修队", "leader_id": leader, "member_ids": [leader]})
    activity = company.post(
        "/api/v1/activities",
        {
            "title": "社区义诊",
            "kind": "free_clinic",
            "estate_ids": [company.estate_id],
            "place": "党群服务中心",
            "starts_at": "2099-01-03T09:00:00+08:00",
            "ends_at": "2099-01-03T11:00:00+08:00",
            "capacity": 5,
            "shifts": [{"name": "引导", "needed": 2}],
            "publish": True,
        },
    ).json()
    signup = company.post(
        f"/api/v1/activities/{activity['id']}/signups",
        {"name": "陈先生", "phone": "13912349001", "household": "1-1-101"},
    )
    company.ids |= {
        "team_id": team.json()["id"],
        "activity_id": activity["id"],
        "shift_id": activity["shifts"][0]["id"],
        "signup_id": signup.json()["id"],
    }
    with platform.store("gateway").transaction() as session:
        from services.gateway import tenants

        spare = tenants.issue_key(session, company.tenant_id, role="company_staff")
        company.ids["key_id"] = tenants.authenticate(session, spare)[1].id  # a key the tests may revoke
    return company


@pytest.fixture(scope="package")
def intruder(platform):
    from tests.conftest import new_company

    return new_company(platform)
