"""Volunteers in the page tests: fresh phones, a volunteer registered over the API, a real
closed case's follow-up visit to work on, and an activity's residents and clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from services.common.fields import SHANGHAI
from services.volunteers.models import Activity, Shift
from tests.support.api import Api
from tests.support.infra import Platform, wait_for
from tests.support.people import Resident, add_confirmed_member, phone


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


def local_minutes(moment: datetime) -> str:
    """``moment`` as a datetime-local field holds it: Asia/Shanghai wall-clock to the minute."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def resident_signs_up(platform: Platform, company: Api, activity_id: str, household: str) -> Resident:
    """A resident confirmed in ``household`` signs up on the estate's activities page (303)."""
    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, household)
    answer = resident.post(f"/e/{company.estate_id}/activities/{activity_id}/signup")
    assert answer.status_code == 303, answer.text
    return resident


def into_the_past(platform: Platform, activity_id: str, days: int = 14) -> None:
    """Move an activity and its shifts ``days`` back, so that it has begun and takes attendance
    (sign-ups close at the start, attendance opens there: no test waits for a clock)."""
    back = timedelta(days=days)
    with platform.store("volunteers").transaction() as session:
        row = session.get(Activity, activity_id)
        row.starts_at, row.ends_at = row.starts_at - back, row.ends_at - back
        for shift in session.scalars(select(Shift).where(Shift.activity_id == activity_id)):
            shift.starts_at, shift.ends_at = shift.starts_at - back, shift.ends_at - back
