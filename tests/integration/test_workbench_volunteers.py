"""Volunteers, teams and activities at the workbench over HTTP: staff register and edit a volunteer
(the phone masked everywhere), form a team and change its members, create an activity, publish
it, staff its shift, see a resident's sign-up and record attendance, which credits the
volunteer's hours. Every rule of a form holds: another company's volunteer, team or activity →
404 and nothing changed; bad input → 422 with what was typed and a message per field; a change
the service refuses now → 409, nothing changed."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest

from services.common.db import utcnow
from services.common.phones import mask_phone
from tests.support.people import clerk_of, staff_browser
from tests.support.volunteers import into_the_past, local_minutes, new_phone, register, resident_signs_up

pytestmark = pytest.mark.integration


def created_id(answer, prefix: str) -> str:
    assert answer.status_code == 303, answer.text
    return re.search(rf"{prefix}/([^?/#]+)\?done=", answer.headers["Location"]).group(1)


def clinic(company, starts_in: timedelta = timedelta(days=2), **fields) -> dict:
    """The new-activity form of a free clinic with one shift, ``starts_in`` from now."""
    start = utcnow().replace(second=0, microsecond=0, tzinfo=UTC) + starts_in
    return {"title": "社区义诊", "kind": "free_clinic", "estate_id": company.estate_id, "place": "党群服务中心",
            "starts_at": local_minutes(start), "ends_at": local_minutes(start + timedelta(hours=3)),
            "capacity": "20", "shift_name": "量血压", "shift_needed": "2"} | fields  # fmt: skip


def test_staff_register_a_volunteer_see_the_phone_masked_and_edit_them(platform, company):
    clerk = clerk_of(platform, company)
    number = new_phone()
    form = {"name": "李医生", "phone": number, "estate_ids": company.estate_id, "skills": ["medical", "visit"],
            "party_member": "on"}  # fmt: skip
    volunteer_id = created_id(clerk.post("/workbench/volunteers", form), "/workbench/volunteers")
    added = company.get(f"/api/v1/volunteers/{volunteer_id}").json()
    assert (added["name"], added["phone"], added["party_member"]) == ("李医生", "+86" + number, True)
    assert (sorted(added["skills"]), added["estate_ids"], added["active"]) == (
        ["medical", "visit"],
        [company.estate_id],
        True,
    )

    listing = clerk.get("/workbench/volunteers")
    assert listing.status_code == 200 and f'data-volunteer="{volunteer_id}"' in listing.text
    assert mask_phone(number) in listing.text and number not in listing.text
    page = clerk.get(f"/workbench/volunteers/{volunteer_id}")
    assert page.status_code == 200 and number not in page.text and 'name="csrf"' in page.text

    # The phone left blank keeps the number; unticking 服务中 pauses the volunteer.
    edit = {"name": "李大夫", "phone": "", "estate_ids": company.estate_id, "skills": "medical"}
    saved = clerk.post(f"/workbench/volunteers/{volunteer_id}", edit)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?done=saved")
    changed = company.get(f"/api/v1/volunteers/{volunteer_id}").json()
    assert (changed["name"], changed["phone"], changed["skills"], changed["active"], changed["party_member"]) == (
        "李大夫", "+86" + number, ["medical"], False, False)  # fmt: skip


def test_bad_input_is_a_422_with_what_was_typed_and_a_message_per_field_and_nothing_made(platform, company):
    clerk = clerk_of(platform, company)
    before = len(company.get("/api/v1/volunteers").json()["data"])
    bad = clerk.post("/workbench/volunteers", {"name": "王阿姨", "phone": "12345", "skills": "visit"})
    assert bad.status_code == 422
    assert re.search(r'data-field="phone">[^<]+<', bad.text) and re.search(r'data-field="estate_ids">[^<]+<', bad.text)
    assert 'value="王阿姨"' in bad.text and 'value="12345"' in bad.text
    assert len(company.get("/api/v1/volunteers").json()["data"]) == before

    wrong = clinic(company, capacity="很多", title="义诊（待定）")
    wrong |= {"ends_at": wrong["starts_at"], "shift_needed": "两个"}
    answer = clerk.post("/workbench/activities", wrong)
    assert answer.status_code == 422
    assert re.search(r'data-field="capacity">请填写整数<', answer.text)
    assert re.search(r'data-field="shifts">请填写整数<', answer.text) and 'value="两个"' in answer.text
    assert re.search(r'data-field="ends_at">结束时间必须晚于开始时间', answer.text)
    assert 'value="义诊（待定）"' in answer.text and 'value="很多"' in answer.text and 'value="量血压"' in answer.text
    weekly = {"title": "义务理发", "kind": "haircut", "estate_id": company.estate_id, "place": "活动室",
              "capacity": "10", "start": "15:00", "end": "09:00", "starts_on": "2099-01-01"}  # fmt: skip
    series = clerk.post("/workbench/activity-series", weekly)
    assert series.status_code == 422
    assert re.search(r'data-field="weekday">必填<', series.text) and re.search(r'data-field="end">[^<]+<', series.text)
    assert 'value="15:00"' in series.text and 'value="义务理发"' in series.text
    assert company.get("/api/v1/activities").json()["data"] == []
    team = clerk.post("/workbench/teams", {"name": "空队", "leader_id": ""})
    assert team.status_code == 422 and re.search(r'data-field="leader_id">请选择<', team.text)
    assert 'value="空队"' in team.text and company.get("/api/v1/teams").json()["data"] == []


def test_a_team_is_formed_renamed_and_its_members_added_and_removed_but_not_its_leader(platform, company):
    clerk = clerk_of(platform, company)
    first, second = (v["id"] for v in company.volunteers)
    third = register(company, "赵师傅", new_phone())["id"]
    team_id = created_id(
        clerk.post("/workbench/teams", {"name": "义务维修队", "leader_id": first, "member_ids": [second]}),
        "/workbench/teams",
    )
    assert sorted(company.get(f"/api/v1/teams/{team_id}").json()["member_ids"]) == sorted([first, second])

    assert (
        clerk.post(
            f"/workbench/teams/{team_id}", {"name": "维修服务队", "description": "小修小补", "leader_id": second}
        ).status_code
        == 303
    )
    assert clerk.post(f"/workbench/teams/{team_id}/members", {"volunteer_id": third}).status_code == 303
    assert clerk.post(f"/workbench/teams/{team_id}/members/{first}/remove").status_code == 303
    refused = clerk.post(f"/workbench/teams/{team_id}/members/{second}/remove")  # the leader stays
    assert refused.status_code == 409 and "不能移除队长" in refused.text
    assert clerk.post(f"/workbench/teams/{team_id}/members/{'x' * 26}/remove").status_code == 404  # not in it
    team = company.get(f"/api/v1/teams/{team_id}").json()
    assert (team["name"], team["description"], team["leader_id"]) == ("维修服务队", "小修小补", second)
    assert sorted(team["member_ids"]) == sorted([second, third])
    listing = clerk.get("/workbench/volunteers").text
    row = re.search(rf'<tr data-volunteer="{third}">.*?</tr>', listing, re.S).group(0)
    assert "维修服务队" in row


def test_an_activity_is_published_staffed_signed_up_and_attendance_credits_the_hours(platform, company):
    clerk = clerk_of(platform, company)
    body = {"name": "李医生", "phone": new_phone(), "estate_ids": [company.estate_id], "skills": ["medical"]}
    doctor = company.post("/api/v1/volunteers", body).json()
    activity_id = created_id(clerk.post("/workbench/activities", clinic(company)), "/workbench/activities")
    draft = company.get(f"/api/v1/activities/{activity_id}").json()
    assert (draft["status"], draft["capacity"], [(s["name"], s["needed"]) for s in draft["shifts"]]) == (
        "draft", 20, [("量血压", 2)])  # fmt: skip
    page = clerk.get(f"/workbench/activities/{activity_id}")
    assert 'id="publish"' in page.text and 'data-status="draft"' in page.text

    assert clerk.post(f"/workbench/activities/{activity_id}/publish").status_code == 303
    again = clerk.post(f"/workbench/activities/{activity_id}/publish")
    assert again.status_code == 409 and "没有生效" in again.text
    shift_id = draft["shifts"][0]["id"]
    staffed = clerk.post(
        f"/workbench/activities/{activity_id}/shifts/{shift_id}/volunteers", {"volunteer_id": doctor["id"]}
    )
    assert staffed.status_code == 303, staffed.text
    resident = resident_signs_up(platform, company, activity_id, "3-2-501")

    page = clerk.get(f"/workbench/activities/{activity_id}").text
    assert "3-2-501" in page and mask_phone(resident.phone) in page and resident.phone[3:] not in page
    assert (
        "活动开始后可在此记录出勤" in page
        and 'action="/workbench/activities/' + activity_id + '/attendance"' not in page
    )
    (signup,) = company.get(f"/api/v1/activities/{activity_id}/signups").json()["data"]
    (line,) = company.get(f"/api/v1/activities/{activity_id}").json()["shifts"][0]["signups"]
    marks = {
        "resident": signup["id"],
        "resident_came": signup["id"],
        "volunteer": line["id"],
        "volunteer_came": line["id"],
    }
    early = clerk.post(f"/workbench/activities/{activity_id}/attendance", marks)
    assert early.status_code == 409 and "not started" in early.text
    assert company.get(f"/api/v1/hours?volunteer_id={doctor['id']}").json()["data"] == []

    into_the_past(platform, activity_id)
    page = clerk.get(f"/workbench/activities/{activity_id}").text
    assert (
        f'name="resident_came" value="{signup["id"]}"' in page and f'name="volunteer_came" value="{line["id"]}"' in page
    )
    recorded = clerk.post(f"/workbench/activities/{activity_id}/attendance", marks)
    assert recorded.status_code == 303, recorded.text
    (credited,) = company.get(f"/api/v1/hours?volunteer_id={doctor['id']}").json()["data"]
    assert (credited["source"], credited["source_id"], credited["hours"]) == ("shift", line["id"], 3.0)
    assert company.get(f"/api/v1/activities/{activity_id}/signups").json()["data"][0]["attended"] is True
    after = clerk.get(f"/workbench/activities/{activity_id}").text
    assert "到场，已计时长" in after and 'name="volunteer_came"' not in after  # recorded: final, not offered again
    listing = clerk.get("/workbench/volunteers").text
    assert f'<tr data-volunteer="{doctor["id"]}">' in listing and 'data-hours="3.0"' in listing
    past = clerk.get("/workbench/activities?status=published").text
    assert re.search(rf'data-when="past">.*data-activity="{activity_id}"', past, re.S)


def test_a_weekly_series_fills_the_list_and_an_activity_is_cancelled_with_a_reason(platform, company):
    clerk = clerk_of(platform, company)
    today = (utcnow() + timedelta(hours=8)).date()  # Asia/Shanghai
    monday = today + timedelta(days=7 - today.weekday())
    series = {
        "title": "义务理发",
        "kind": "haircut",
        "estate_id": company.estate_id,
        "place": "活动室",
        "capacity": "10",
        "weekday": "0",
        "start": "09:00",
        "end": "11:00",
        "starts_on": monday.isoformat(),
        "until": (monday + timedelta(days=7)).isoformat(),
    }  # fmt: skip  (both within the horizon)
    made = clerk.post("/workbench/activity-series", series)
    assert made.status_code == 303 and made.headers["Location"].endswith("/workbench/activities?done=series")
    weekly = [a for a in company.get("/api/v1/activities").json()["data"] if a["title"] == "义务理发"]
    assert len(weekly) == 2 and {a["status"] for a in weekly} == {"published"}
    listing = clerk.get("/workbench/activities").text
    assert all(f'data-activity="{a["id"]}"' in listing for a in weekly)

    first = weekly[-1]["id"]
    blank = clerk.post(f"/workbench/activities/{first}/cancel", {"reason": ""})
    assert blank.status_code == 422 and 'data-field="reason"' in blank.text
    assert company.get(f"/api/v1/activities/{first}").json()["status"] == "published"
    assert clerk.post(f"/workbench/activities/{first}/cancel", {"reason": "理发师生病"}).status_code == 303
    cancelled = company.get(f"/api/v1/activities/{first}").json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "理发师生病")
    assert (
        f'data-activity="{first}" data-status="cancelled"' in clerk.get("/workbench/activities?status=cancelled").text
    )


def test_another_company_s_volunteer_team_and_activity_are_404_and_nothing_changes(platform, company, second_company):
    clerk = clerk_of(platform, company)
    theirs = second_company.volunteers[0]
    leader = theirs["id"]
    team = second_company.post("/api/v1/teams", {"name": "别家队", "leader_id": leader, "member_ids": [leader]}).json()
    activity = second_company.post("/api/v1/activities", {
        "title": "别家活动", "kind": "other", "estate_ids": [second_company.estate_id], "place": "别处",
        "starts_at": "2099-01-03T09:00:00+08:00", "ends_at": "2099-01-03T11:00:00+08:00", "capacity": 5,
        "shifts": [{"name": "引导", "needed": 2}]}).json()  # fmt: skip
    mine = company.volunteers[0]["id"]

    def state():
        return (second_company.get(f"/api/v1/volunteers/{leader}").json(),
                second_company.get(f"/api/v1/teams/{team['id']}").json(),
                second_company.get(f"/api/v1/activities/{activity['id']}").json())  # fmt: skip

    before = state()
    pages = [
        f"/workbench/volunteers/{leader}",
        f"/workbench/teams/{team['id']}",
        f"/workbench/activities/{activity['id']}",
    ]
    for path in pages:
        answer = clerk.get(path)
        assert answer.status_code == 404 and "不属于您的公司" in answer.text, path
    forms = {
        f"/workbench/volunteers/{leader}": {"name": "改名", "estate_ids": company.estate_id},
        f"/workbench/teams/{team['id']}": {"name": "改名", "leader_id": leader},
        f"/workbench/teams/{team['id']}/members": {"volunteer_id": mine},
        f"/workbench/teams/{team['id']}/members/{leader}/remove": {},
        f"/workbench/activities/{activity['id']}/publish": {},
        f"/workbench/activities/{activity['id']}/cancel": {"reason": "伪造"},
        f"/workbench/activities/{activity['id']}/shifts/{activity['shifts'][0]['id']}/volunteers": {
            "volunteer_id": mine
        },
        f"/workbench/activities/{activity['id']}/attendance": {},
    }
    for path, form in forms.items():
        answer = clerk.post(path, form)
        assert answer.status_code == 404 and "不属于您的公司" in answer.text, path
    # Nor can a team of ours take their volunteer, nor an activity of ours their estate.
    ours = created_id(clerk.post("/workbench/teams", {"name": "本队", "leader_id": mine}), "/workbench/teams")
    refused = clerk.post(f"/workbench/teams/{ours}/members", {"volunteer_id": leader})
    assert refused.status_code == 422 and 'data-field="volunteer_id"' in refused.text
    foreign = clerk.post("/workbench/activities", clinic(company, estate_id=second_company.estate_id))
    assert foreign.status_code == 422 and re.search(r'data-field="estate_id">没有这个小区', foreign.text)
    assert state() == before
    assert company.get(f"/api/v1/teams/{ours}").json()["member_ids"] == [mine]
    supervisor = staff_browser(platform, None, "supervisor", community="督办社区-志愿者页")  # no company: 403 pages
    for path in ("/workbench/volunteers", "/workbench/teams", "/workbench/activities"):
        assert supervisor.get(platform.base_url + path, allow_redirects=False).status_code == 403, path
