"""The HTTP edge: authentication, tenant isolation and every error as problem+json."""

import secrets
import uuid

import pytest

from services.gateway.tenants import KEY_PREFIX
from tests.support.infra import wait_for
from tests.support.people import post_form, survey_link

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    return body


def test_no_key_or_an_unknown_key_is_401(platform):
    assert problem(platform.http.get(platform.base_url + "/api/v1/cases"), 401)["title"] == "Unauthorized"
    never_issued = KEY_PREFIX + secrets.token_urlsafe(24)
    response = platform.http.get(
        platform.base_url + "/api/v1/cases", headers={"Authorization": f"Bearer {never_issued}"}
    )
    assert problem(response, 401)["detail"] == "unknown or revoked API key"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="lianxin"'


def test_another_tenants_case_visits_and_surveys_are_404_and_never_listed(platform, company, second_company):
    case = company.case(company.estate_id, phone="13912348888")
    company.close(case["id"])
    wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])
    for path in (
        f"/api/v1/cases/{case['id']}",
        f"/api/v1/cases/{case['id']}/visits",
        f"/api/v1/cases/{case['id']}/surveys",
    ):
        assert problem(second_company.get(path), 404)["detail"] == f"case {case['id']} not found"
    assert problem(second_company.transition(case["id"], "reopen", note="x"), 404)
    listed = second_company.get("/api/v1/cases").json()["data"]
    assert case["id"] not in [c["id"] for c in listed]
    assert company.volunteers[0]["id"] not in [v["id"] for v in second_company.get("/api/v1/volunteers").json()["data"]]
    assert company.estate_id not in [e["id"] for e in second_company.get("/api/v1/estates").json()["data"]]
    visit = company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"][0]
    assert problem(second_company.post(f"/api/v1/visits/{visit['id']}/complete", {"outcome": "satisfied"}), 404)
    deliveries = second_company.get("/api/v1/notifications", params={"phone": "13912348888"}).json()
    assert deliveries == {"data": [], "has_more": False}


def test_a_case_in_another_tenants_estate_is_refused(company, second_company):
    response = second_company.post(
        "/api/v1/cases",
        {
            "estate_id": company.estate_id,
            "category": "repair",
            "title": "t",
            "description": "d",
            "channel": "app",
            "reporter": {"name": "陈", "phone": "13912345678", "household": "1-1-101"},
        },
    )
    assert problem(response, 422)["errors"] == {"estate_id": ["没有这个小区 (no such estate)"]}


def test_invalid_case_input_is_422_with_a_message_per_field(company):
    response = company.post(
        "/api/v1/cases",
        {
            "estate_id": company.estate_id,
            "category": "plumbing",
            "title": "  ",
            "description": "x" * 2001,
            "channel": "fax",
            "priority": "soon",
            "reporter": {"name": "陈", "phone": "12345", "household": "501"},
            "extra": 1,
        },
    )
    errors = problem(response, 422)["errors"]
    assert sorted(errors) == ["category", "channel", "description", "extra", "priority", "reporter", "title"]
    assert sorted(errors["reporter"]) == ["household", "phone"]
    assert errors["title"] == ["不能为空 (must not be blank)"]
    assert errors["reporter"]["phone"] == ["不是有效的中国大陆手机号码 (not a valid mainland China mobile number)"]
    assert errors["reporter"]["household"] == ["门牌应为 楼-单元-房号, 如 3-2-501 (building-unit-room)"]
    assert errors["extra"] == ["Unknown field."]
    assert company.get("/api/v1/cases").json()["data"] == []  # nothing was created


def test_an_illegal_transition_is_409_and_changes_nothing(company):
    case = company.case(company.estate_id)
    body = problem(company.transition(case["id"], "close"), 409)
    assert body["detail"] == "cannot close a case that is submitted (allowed: accept, cancel)"
    after = company.get(f"/api/v1/cases/{case['id']}").json()
    assert after["status"] == "submitted"
    assert len(after["history"]) == 1
    assert problem(company.transition(case["id"], "fly"), 422)["errors"] == {
        "action": [
            "Must be one of: accept, assign, reassign, hand_back, start, wait_resident, resume, resolve, close, "
            "reopen, cancel."
        ]
    }
    assert company.transition(case["id"], "accept").status_code == 200
    assert problem(company.transition(case["id"], "assign"), 409)["detail"] == "assign needs an assignee"


def test_a_second_answer_is_409_and_keeps_the_first(platform, company):
    case = company.case(company.estate_id, phone="13912347777")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912347777"))
    assert platform.http.post(link, json={"score": 5, "comment": "很好"}).status_code == 200
    second = platform.http.post(link, json={"score": 1})
    assert problem(second, 409)["detail"] == "这份问卷已经填写过了 (already answered)"
    page = post_form(platform, link, {"score": "1"})
    assert page.status_code == 409 and "您已评价" in page.text
    survey = company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"][0]
    assert (survey["status"], survey["score"], survey["comment"]) == ("answered", 5, "很好")


def test_a_get_of_the_survey_link_records_nothing(platform, company):
    case = company.case(company.estate_id, phone="13912346666")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912346666"))
    for _ in range(3):
        assert platform.http.get(link).status_code == 200
        assert platform.http.head(link).status_code in (200, 405)
    assert company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"][0]["status"] == "issued"
    bad = post_form(platform, link, {"score": "9"})
    assert bad.status_code == 422 and "请选择 1 到 5 分" in bad.text
    assert company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"][0]["status"] == "issued"
    assert platform.http.get(platform.base_url + "/s/" + "x" * 32).status_code == 404


def test_oversized_wrong_type_and_broken_bodies_are_clear_4xx(platform, company):
    url = platform.base_url + "/api/v1/cases"
    big = platform.http.post(
        url,
        data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
        headers=company.headers | {"Content-Type": "application/json"},
    )
    assert problem(big, 413)["title"] == "Content too large"
    text = platform.http.post(url, data="hello", headers=company.headers | {"Content-Type": "text/plain"})
    assert problem(text, 415)["detail"] == "Content-Type must be application/json"
    broken = platform.http.post(
        url, data='{"estate_id": ', headers=company.headers | {"Content-Type": "application/json"}
    )
    assert problem(broken, 400)["title"] == "Bad request"
    array = company.post("/api/v1/cases", [1, 2])
    assert problem(array, 422)["errors"] == {"_schema": ["must be an object"]}


def test_request_ids_are_echoed_and_generated(company):
    response = company.get("/api/v1/estates", headers={"X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    generated = company.get("/api/v1/estates").headers["X-Request-Id"]
    assert str(uuid.UUID(generated)) == generated


def test_cases_list_filters_and_paginates_newest_first(company):
    ids = [company.case(company.estate_id, phone=f"139123455{n:02d}")["id"] for n in range(5)]
    company.transition(ids[0], "accept")
    first = company.get("/api/v1/cases", params={"limit": 2}).json()
    assert [c["id"] for c in first["data"]] == [ids[4], ids[3]] and first["has_more"] is True
    rest = company.get("/api/v1/cases", params={"limit": 10, "starting_after": ids[3]}).json()
    assert [c["id"] for c in rest["data"]] == [ids[2], ids[1], ids[0]] and rest["has_more"] is False
    accepted = company.get("/api/v1/cases", params={"status": "accepted"}).json()["data"]
    assert [c["id"] for c in accepted] == [ids[0]]
    assert problem(company.get("/api/v1/cases", params={"limit": 0}), 422)["errors"] == {
        "limit": ["Must be greater than or equal to 1 and less than or equal to 100."]
    }


def test_openapi_and_docs_are_served(platform):
    spec = platform.http.get(platform.base_url + "/openapi.json").json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/cases/{case_id}/transitions" in spec["paths"]
    docs = platform.http.get(platform.base_url + "/docs")
    assert docs.status_code == 200 and "/api/v1/cases" in docs.text
