"""Volunteers in the page tests: fresh phones, a volunteer registered over the API, and a real
closed case's follow-up visit to work on."""

from __future__ import annotations

import uuid

from tests.support.api import Api
from tests.support.infra import wait_for


def new_phone() -> str:
    return f"138{uuid.uuid4().int % 10**8:08d}"


def spaced(phone: str) -> str:
    return f"{phone[:3]} {phone[3:7]} {phone[7:]}"


def register(api: Api, name: str, phone: str) -> dict:
    body = {"name": name, "phone": phone, "estate_ids": [api.estate_id], "skills": ["visit"]}
    response = api.post("/api/v1/volunteers", body)
    assert response.status_code == 201, response.text
    return response.json()


def closed_case_visit(api: Api, resident: str) -> tuple[dict, dict]:
    case = api.case(api.estate_id, phone=resident, household="3-2-501")
    api.close(case["id"])
    visit = wait_for(lambda: api.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])[0]
    return case, visit
