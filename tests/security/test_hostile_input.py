"""Hostile and unusual input at the HTTP edge: a clear 4xx or stored exactly, and escaped on pages."""

from __future__ import annotations

import logging

import pytest

from services.gateway.openapi import spec
from tests.support.infra import wait_for
from tests.support.people import post_form, survey_link

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"

UNICODE = {
    "title": "🚰漏水😡 𠀀𪚥 e\u0301",  # emoji, 4-byte CJK (Extension B), a combining accent
    "description": "مرحبا بالعالم \u202eRTL override\u202c 👨\u200d👩\u200d👧 家里漏水 \u3000全角空格",
}
INJECTIONS = (
    "'; DROP TABLE cases; --",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }} ${7*7} %s %(x)s",
)


def test_unicode_edge_cases_are_stored_and_returned_exactly(company):
    case = company.case(
        company.estate_id, **UNICODE, reporter={"name": "𪚥先生", "phone": "13912340001", "household": "1-1-101"}
    )
    again = company.get(f"/api/v1/cases/{case['id']}").json()
    assert (again["title"], again["description"], again["reporter"]["name"]) == (
        UNICODE["title"],
        UNICODE["description"],
        "𪚥先生",
    )


def test_a_lone_surrogate_is_a_clear_400(platform, company):
    response = platform.http.post(
        platform.base_url + "/api/v1/estates",
        data=b'{"name": "\\ud800"}',
        headers=company.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["detail"] == "body holds an unpaired UTF-16 surrogate: not valid Unicode text"


def test_strings_at_and_over_the_documented_limit(company):
    limit = spec()["components"]["schemas"]["CaseCreate"]["properties"]["title"]["maxLength"]
    assert company.case(company.estate_id, title="修" * limit)["title"] == "修" * limit
    response = company.post(
        "/api/v1/cases",
        {
            "estate_id": company.estate_id,
            "category": "repair",
            "title": "修" * (limit + 1),
            "description": "x" * 100_000,
            "channel": "app",
            "reporter": {"name": "陈", "phone": "13912345678", "household": "1-1-101"},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "title": [f"最多 {limit} 个字符 (at most {limit} characters)"],
        "description": ["最多 2000 个字符 (at most 2000 characters)"],
    }


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_are_just_text(company, text):
    case = company.case(company.estate_id, title=text, description=text)
    assert company.get(f"/api/v1/cases/{case['id']}").json()["title"] == text
    assert text in [c["title"] for c in company.get("/api/v1/cases", params={"limit": 100}).json()["data"]]
    filtered = company.get("/api/v1/cases", params={"estate_id": text[:64]})
    assert filtered.status_code == 200 and filtered.json() == {"data": [], "has_more": False}


def test_stored_html_is_escaped_on_the_residents_page(platform, company):
    case = company.case(company.estate_id, phone="13912340002", title="<script>alert(1)</script>楼道灯")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912340002"))
    page = platform.http.get(link)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;楼道灯" in page.text
    assert "<script>alert(1)" not in page.text


def test_api_keys_never_reach_the_logs_and_survey_tokens_never_at_info(platform, company, caplog):
    caplog.set_level(logging.DEBUG)
    key = company.headers["Authorization"].removeprefix("Bearer ")
    case = company.case(company.estate_id, phone="13912340003")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912340003"))
    token = link.rsplit("/", 1)[1]
    platform.http.get(link)
    post_form(platform, link, {"score": "4"})
    platform.http.get(platform.base_url + "/api/v1/cases", headers={"Authorization": f"Bearer {key}x"})
    assert caplog.records, "nothing was logged: the check would prove nothing"
    lines = [(r.levelno, r.getMessage() + (r.exc_text or "")) for r in caplog.records]
    assert [line for _, line in lines if key in line] == []
    assert [line for level, line in lines if level >= logging.INFO and token in line] == []
