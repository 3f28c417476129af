"""The case desk over HTTP: categories, waiting on the resident, hand-back, audit, comments,
search and counts, the party branch supervisor's read-only community view, and 422s."""

import uuid

import pytest

from services.gateway import tenants
from tests.support.api import Api, new_company, resident_app

pytestmark = pytest.mark.integration


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    return response.json()


def supervisor_of(platform, community):
    """The party branch of ``community``: its own tenant with a supervisor key."""
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(session, f"党支部-{uuid.uuid4().hex[:8]}", community)
        key = tenants.issue_key(session, branch["tenant_id"], role="supervisor")
    return Api(platform, key)


def test_categories_default_configure_and_validate_a_case(company):
    listed = company.get("/api/v1/case-categories").json()["data"]
    assert [c["name"] for c in listed][:3] == ["水电维修", "公共设施", "环境卫生"]
    assert len(listed) == 10 and all(not c["custom"] for c in listed)
    put = company.post(
        "/api/v1/case-categories",
        {
            "code": "elevator",
            "name": "电梯故障",
            "team": "电梯维保组",
            "sla": {"normal": {"response_hours": 1, "resolution_hours": 8}},
        },
    )
    assert put.status_code == 200, put.text
    assert put.json()["custom"] is True and put.json()["team"] == "电梯维保组"
    case = company.case(company.estate_id, category="elevator", title="电梯困人")
    assert (case["status"], case["assignee"], case["assignee_kind"]) == ("assigned", "电梯维保组", "team")
    bad = company.post(
        "/api/v1/case-categories",
        {"code": "Bad-Code", "name": "", "sla": {"normal": {"response_hours": 9, "resolution_hours": 1}}, "x": 1},
    )
    assert sorted(problem(bad, 422)["errors"]) == ["code", "name", "sla", "x"]
    unknown = company.post("/api/v1/cases", {"estate_id": company.estate_id, "category": "plumbing"})
    errors = problem(unknown, 422)["errors"]
    assert errors["category"][0].startswith("没有这个类别")
    assert "title" in errors and "reporter" in errors


def test_wait_resume_hand_back_reassign_and_the_audit_trail(company):
    case = company.case(company.estate_id, phone="13912360001")
    for action, extra in (("accept", {}), ("assign", {"assignee": "王师傅"}), ("start", {})):
        assert company.transition(case["id"], action, **extra).status_code == 200
    assert problem(company.transition(case["id"], "wait_resident"), 422)["errors"] == {
        "note": ["需要说明原因 (a reason is required)"]
    }
    waiting = company.transition(case["id"], "wait_resident", note="业主不在家，约周末")
    assert waiting.json()["status"] == "waiting_resident" and waiting.json()["sla_paused"] is True
    assert company.transition(case["id"], "resume").json()["sla_paused"] is False
    moved = company.transition(case["id"], "reassign", assignee="义务维修队", assignee_kind="team", note="需要两人")
    assert (moved.json()["assignee"], moved.json()["assignee_kind"]) == ("义务维修队", "team")
    back = company.transition(case["id"], "hand_back", note="退单：非维修队职责")
    assert (back.json()["status"], back.json()["assignee"]) == ("accepted", None)
    assert problem(company.transition(case["id"], "merge", note="x"), 422)["errors"]["action"]
    for action, extra in (("assign", {"assignee": "王师傅"}), ("start", {}), ("resolve", {})):
        assert company.transition(case["id"], action, **extra).status_code == 200
    reopened = company.transition(case["id"], "reopen", note="业主说还在漏", source="resident")
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["history"][-1]["source"], reopened.json()["assignee"]) == ("resident", "王师傅")
    assert problem(company.transition(case["id"], "start", source="robot"), 422)["errors"] == {
        "source": ["Must be one of: resident, staff."]
    }
    edited = company.lx.http.patch(
        company.lx.base_url + f"/api/v1/cases/{case['id']}", json={"priority": "high"}, headers=company.headers
    )
    assert edited.status_code == 200, edited.text
    empty = company.lx.http.patch(company.lx.base_url + f"/api/v1/cases/{case['id']}", json={}, headers=company.headers)
    assert problem(empty, 422)["errors"] == {"_schema": ["nothing to change"]}
    trail = company.get(f"/api/v1/cases/{case['id']}/audit").json()["data"]
    assert [(c["before"], c["after"]) for c in trail if c["field"] == "status"] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "waiting_resident"),
        ("waiting_resident", "in_progress"),
        ("in_progress", "assigned"),
        ("assigned", "accepted"),
        ("accepted", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "reopened"),
    ]
    assert [(c["before"], c["after"]) for c in trail if c["field"] == "priority"] == [
        (None, "normal"),
        ("normal", "high"),
    ]
    assert all(c["actor"].endswith(company.key[:12]) for c in trail)


def test_comments_public_and_internal(company, second_company):
    case = company.case(company.estate_id, phone="13912360002")
    public = company.post(f"/api/v1/cases/{case['id']}/comments", {"body": "师傅明早九点到", "author_role": "staff"})
    assert public.status_code == 201, public.text
    internal = company.post(f"/api/v1/cases/{case['id']}/comments", {"body": "需买配件", "visibility": "internal"})
    assert internal.status_code == 201
    bodies = [c["body"] for c in company.get(f"/api/v1/cases/{case['id']}/comments").json()["data"]]
    assert bodies == ["师傅明早九点到", "需买配件"]
    shown = company.get(f"/api/v1/cases/{case['id']}/comments", params={"visibility": "public"}).json()["data"]
    assert [c["body"] for c in shown] == ["师傅明早九点到"]
    assert problem(company.post(f"/api/v1/cases/{case['id']}/comments", {"body": " "}), 422)["errors"] == {
        "body": ["不能为空 (must not be blank)"]
    }
    assert problem(second_company.post(f"/api/v1/cases/{case['id']}/comments", {"body": "x"}), 404)


def test_a_resident_app_comments_on_its_residents_own_case_in_public(platform, company):
    case = company.case(company.estate_id, phone="13912360009")
    app = resident_app(platform, company.tenant_id, "13912360009")
    sneaky = {"body": "师傅几点到？", "author_role": "staff", "visibility": "internal"}
    mine = app.post(f"/api/v1/cases/{case['id']}/comments", sneaky)
    assert mine.status_code == 201, mine.text
    assert (mine.json()["author_role"], mine.json()["visibility"]) == ("resident", "public")
    other = resident_app(platform, company.tenant_id, "13912360010", key=app.app_key)
    assert problem(other.post(f"/api/v1/cases/{case['id']}/comments", {"body": "x"}), 404)


def test_search_filters_and_counts(company):
    marker = uuid.uuid4().hex[:8]
    first = company.case(company.estate_id, phone="13912360003", title=f"{marker} 50%漏水")
    second = company.case(company.estate_id, phone="13912360004", title=f"{marker} 电梯", priority="urgent")
    found = company.get("/api/v1/cases", params={"q": f"{marker} 50%"}).json()["data"]
    assert [c["id"] for c in found] == [first["id"]]
    found = company.get("/api/v1/cases", params={"q": marker, "priority": "urgent"}).json()["data"]
    assert [c["id"] for c in found] == [second["id"]]
    page = company.get("/api/v1/cases", params={"q": marker, "limit": 1}).json()
    rest = company.get("/api/v1/cases", params={"q": marker, "limit": 1, "starting_after": page["data"][0]["id"]})
    assert [page["data"][0]["id"], rest.json()["data"][0]["id"]] == [second["id"], first["id"]]
    assert company.get("/api/v1/cases", params={"overdue": "true", "q": marker}).json()["data"] == []
    counts = company.get("/api/v1/case-counts", params={"q": marker}).json()
    assert counts["total"] == 2 and counts["by_status"]["submitted"] == 2
    bad = company.get(
        "/api/v1/cases", params={"overdue": "perhaps", "created_from": "2026-12-02", "created_to": "2026-12-01"}
    )
    assert sorted(problem(bad, 422)["errors"]) == ["overdue"]
    bad = company.get("/api/v1/cases", params={"created_from": "2026-12-02", "created_to": "2026-12-01"})
    assert problem(bad, 422)["errors"] == {"created_to": ["must not be before created_from"]}
    assert sorted(problem(company.get("/api/v1/case-counts", params={"limit": 5}), 422)["errors"]) == ["limit"]


def test_the_supervisor_reads_the_whole_community_changes_nothing_and_sees_no_other_community(
    platform, company, second_company
):
    supervisor = supervisor_of(platform, "政通路社区")
    elsewhere = new_company(platform)
    with platform.store("gateway").transaction() as session:
        from services.gateway.models import Tenant  # noqa: PLC0415

        session.get(Tenant, elsewhere.tenant_id).community = "别的社区"
    ours = company.case(company.estate_id, phone="13912360005")
    theirs = second_company.case(second_company.estate_id, phone="13912360006")
    foreign = elsewhere.case(elsewhere.estate_id, phone="13912360007")

    listed = []
    cursor = None
    while True:
        page = supervisor.get("/api/v1/community/cases", params={"limit": 100, "starting_after": cursor}).json()
        listed += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert ours["id"] in listed and theirs["id"] in listed
    assert foreign["id"] not in listed
    assert supervisor.get(f"/api/v1/community/cases/{theirs['id']}").json()["status"] == "submitted"
    assert problem(supervisor.get(f"/api/v1/community/cases/{foreign['id']}"), 404)

    # Read-only: a supervisor key moves nothing, edits nothing, and reaches no company route.
    assert problem(supervisor.transition(ours["id"], "accept"), 403)
    assert problem(supervisor.get(f"/api/v1/cases/{ours['id']}"), 403)
    assert company.get(f"/api/v1/cases/{ours['id']}").json()["status"] == "submitted"
    # …and a company key is not a supervisor.
    assert problem(company.get("/api/v1/community/cases"), 403)

    instructed = supervisor.post(
        f"/api/v1/community/cases/{theirs['id']}/instructions", {"body": "请三日内上门处理并回复业主"}
    )
    assert instructed.status_code == 201, instructed.text
    assert (instructed.json()["kind"], instructed.json()["author_role"]) == ("instruction", "supervisor")
    seen = second_company.get(f"/api/v1/cases/{theirs['id']}/comments").json()["data"]
    assert [(c["kind"], c["body"]) for c in seen] == [("instruction", "请三日内上门处理并回复业主")]
    assert problem(supervisor.post(f"/api/v1/community/cases/{foreign['id']}/instructions", {"body": "x"}), 404)
    assert problem(supervisor.post(f"/api/v1/community/cases/{theirs['id']}/instructions", {}), 422)["errors"] == {
        "body": ["Missing data for required field."]
    }
    assert supervisor.get(f"/api/v1/community/cases/{theirs['id']}").json()["comments"][0]["kind"] == "instruction"


def test_incident_and_proposal_bodies_are_validated(company, second_company):
    bad = company.post("/api/v1/incidents", {"estate_id": company.estate_id, "kind": "meteor", "severity": "huge"})
    assert sorted(problem(bad, 422)["errors"]) == ["description", "kind", "severity", "title"]
    past = company.post(
        "/api/v1/incidents",
        {
            "estate_id": company.estate_id,
            "kind": "power_outage",
            "title": "停电",
            "description": "检修",
            "expected_end": "2000-01-01T00:00:00Z",
        },
    )
    assert list(problem(past, 422)["errors"]) == ["expected_end"]
    other = company.post(
        "/api/v1/incidents",
        {"estate_id": second_company.estate_id, "kind": "other", "title": "x", "description": "y"},
    )
    assert list(problem(other, 422)["errors"]) == ["estate_id"]
    incident = company.post(
        "/api/v1/incidents",
        {"estate_id": company.estate_id, "kind": "elevator", "title": "电梯停运", "description": "维保"},
    ).json()
    assert problem(company.post(f"/api/v1/incidents/{incident['id']}/cases", {"case_ids": []}), 422)
    assert problem(second_company.get(f"/api/v1/incidents/{incident['id']}"), 404)
    foreign = second_company.case(second_company.estate_id, phone="13912360008")
    merge = company.post(f"/api/v1/incidents/{incident['id']}/cases", {"case_ids": [foreign["id"]]})
    assert problem(merge, 422)["errors"] == {"case_ids": {"0": [f"no case {foreign['id']}"]}}
    listed = company.get("/api/v1/incidents", params={"estate_id": company.estate_id, "status": "declared"})
    assert incident["id"] in [i["id"] for i in listed.json()["data"]]
    assert problem(company.get("/api/v1/incidents", params={"status": "gone"}), 422)
