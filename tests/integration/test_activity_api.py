"""Activities over HTTP: publish and cancel events, sign-ups, shifts, attendance hours, the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.volunteers.assignment import SHANGHAI
from services.volunteers.models import Activity, Outbox, Shift
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def next_saturday_local() -> datetime:
    today = datetime.now(SHANGHAI).date()
    day = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)


def events_of(platform, type_, subject):
    with platform.store("volunteers").read() as session:
        rows = session.scalars(
            select(Outbox).where(Outbox.type == type_, Outbox.subject == subject).order_by(Outbox.id)
        ).all()
    return [row.body["data"] for row in rows]


def test_an_activity_from_publication_to_attendance_and_hours(platform, company, second_company):
    start = next_saturday_local()
    doctor = company.post(
        "/api/v1/volunteers",
        {"name": "李医生", "phone": "13800000301", "estate_ids": [company.estate_id], "skills": ["medical"]},
    ).json()
    body = {
        "title": "社区义诊",
        "kind": "free_clinic",
        "estate_ids": [company.estate_id],
        "place": "党群服务中心",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "capacity": 1,
        "shifts": [{"name": "量血压", "skills": ["medical"], "needed": 1}],
        "publish": True,
    }
    assert second_company.post("/api/v1/activities", body).status_code == 422  # not its estate
    created = company.post("/api/v1/activities", body)
    assert created.status_code == 201, created.text
    activity = created.json()
    (published,) = events_of(platform, "activity.published", activity["id"])
    assert published["estate_ids"] == [company.estate_id]
    assert published["starts_at"] == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    path = f"/api/v1/activities/{activity['id']}"
    first = company.post(f"{path}/signups", {"name": "陈先生", "phone": "13912345601", "household": "1-1-101"})
    second = company.post(f"{path}/signups", {"name": "王阿姨", "phone": "13912345602", "household": "1-1-102"})
    assert (first.json()["status"], second.json()["status"]) == ("confirmed", "waiting")
    assert (
        company.post(f"{path}/signups", {"name": "陈太太", "phone": "13912345603", "household": "1-1-101"}).status_code
        == 409
    )
    assert company.post(f"{path}/signups", {"name": "", "phone": "1", "household": ""}).status_code == 422
    assert (
        second_company.post(f"{path}/signups", {"name": "x", "phone": "13912345604", "household": "9"}).status_code
        == 404
    )
    shift_id = activity["shifts"][0]["id"]
    on_shift = company.post(f"{path}/shifts/{shift_id}/signups", {"volunteer_id": doctor["id"]})
    assert on_shift.status_code == 201, on_shift.text
    other = company.volunteers[0]["id"]
    assert company.post(f"{path}/shifts/{shift_id}/signups", {"volunteer_id": other}).status_code == 422  # no skill

    cancelled = company.post(f"{path}/signups/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200
    listed = company.get(f"{path}/signups").json()["data"]
    assert [(s["household"], s["status"]) for s in listed] == [("1-1-101", "cancelled"), ("1-1-102", "confirmed")]
    (promoted,) = events_of(platform, "activity.signup_promoted", second.json()["id"])
    assert promoted["resident"] == {"name": "王阿姨", "phone": "+8613912345602", "household": "1-1-102"}
    told = wait_for(lambda: company.get("/api/v1/inbox", params={"phone": "13912345602"}).json()["data"], timeout=20)
    local_start = start.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert [(m["subject"], m["body"]) for m in told] == [
        (
            "候补成功：社区义诊",
            f"王阿姨您好，“社区义诊”有了空位，您已由候补转为正式报名。时间：{local_start}，地点：党群服务中心。",
        )
    ]

    schedule = company.get(f"/api/v1/volunteers/{doctor['id']}/schedule").json()["data"]
    assert [(i["kind"], i["id"], i["title"]) for i in schedule] == [("shift", shift_id, "社区义诊 / 量血压")]

    calendar = company.get(f"/api/v1/estates/{company.estate_id}/calendar?week_of={start.date().isoformat()}")
    assert calendar.status_code == 200, calendar.text
    saturday = calendar.json()["days"][5]
    assert [(a["id"], a["confirmed"], a["waiting"]) for a in saturday["activities"]] == [(activity["id"], 1, 0)]
    assert second_company.get(f"/api/v1/estates/{company.estate_id}/calendar").status_code == 404
    page = platform.http.get(
        f"{platform.base_url}/p/estates/{company.estate_id}/calendar?week_of={start.date().isoformat()}"
    )
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "社区义诊" in page.text and "党群服务中心" in page.text
    assert "王阿姨" not in page.text and "13912345602" not in page.text and "<script" not in page.text
    assert (
        platform.http.get(f"{platform.base_url}/p/estates/{company.estate_id}/calendar?week_of=soon").status_code == 422
    )

    marks = {
        "residents": [{"signup_id": second.json()["id"], "attended": True}],
        "volunteers": [{"signup_id": on_shift.json()["id"], "attended": True}],
    }
    assert company.post(f"{path}/attendance", marks).status_code == 409  # it has not happened yet
    with platform.store("volunteers").transaction() as session:  # move it (and its shift) into the past
        row = session.get(Activity, activity["id"])
        row.starts_at, row.ends_at = row.starts_at - timedelta(days=14), row.ends_at - timedelta(days=14)
        shift = session.get(Shift, shift_id)
        shift.starts_at, shift.ends_at = shift.starts_at - timedelta(days=14), shift.ends_at - timedelta(days=14)
    recorded = company.post(f"{path}/attendance", marks)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["credited"] == 1
    (line,) = company.get(f"/api/v1/hours?volunteer_id={doctor['id']}").json()["data"]
    assert (line["source"], line["source_id"], line["hours"]) == ("shift", on_shift.json()["id"], 3.0)


def test_cancelling_tells_everyone_signed_up(platform, company):
    start = next_saturday_local() + timedelta(days=7)
    activity = company.post(
        "/api/v1/activities",
        {
            "title": "消防讲座",
            "kind": "fire_safety_talk",
            "estate_ids": [company.estate_id],
            "place": "活动室",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "capacity": 30,
        },
    ).json()
    path = f"/api/v1/activities/{activity['id']}"
    assert (
        company.post(f"{path}/signups", {"name": "陈先生", "phone": "13912345601", "household": "1-1-101"}).status_code
        == 409
    )  # draft
    assert company.post(f"{path}/publish").status_code == 200
    assert company.post(f"{path}/publish").status_code == 409
    company.post(f"{path}/signups", {"name": "陈先生", "phone": "13912345601", "household": "1-1-101"})
    assert company.post(f"{path}/cancel", {}).status_code == 422
    done = company.post(f"{path}/cancel", {"reason": "场地维修"})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    (told,) = events_of(platform, "activity.cancelled", activity["id"])
    assert told["reason"] == "场地维修"
    assert told["recipients"] == [
        {"name": "陈先生", "phone": "+8613912345601", "household": "1-1-101", "role": "resident"}
    ]


def test_a_weekly_series_fills_the_calendar(platform, company):
    today = datetime.now(SHANGHAI).date()
    created = company.post(
        "/api/v1/activity-series",
        {
            "title": "义务理发",
            "kind": "haircut",
            "estate_ids": [company.estate_id],
            "place": "3号楼下",
            "capacity": 10,
            "frequency": "weekly",
            "weekday": 2,
            "start": "09:00",
            "end": "11:00",
            "starts_on": today.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    with platform.store("volunteers").read() as session:
        made = session.scalars(select(Activity).where(Activity.series_id == created.json()["id"])).all()
    assert len(made) == 4 and all(a.status == "published" and a.occurs_on.weekday() == 2 for a in made)
    later = company.get(
        f"/api/v1/estates/{company.estate_id}/calendar?week_of={(today + timedelta(days=14)).isoformat()}"
    )
    assert [a["title"] for a in later.json()["days"][2]["activities"]] == ["义务理发"]
