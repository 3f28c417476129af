"""The volunteer's own pages over HTTP (/v): a real closed case's visit, accepted and completed
by its volunteer through the forms, and refused to everyone else (real broker and databases)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.common.db import utcnow
from services.common.fields import mainland_mobile
from services.gateway import sessions
from tests.support.api import company_in
from tests.support.infra import wait_for
from tests.support.volunteers import closed_case_visit, new_phone, register, spaced

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Phone:
    """A phone's browser: signed in as ``phone`` (the session cookie), no redirects followed."""

    def __init__(self, platform, phone: str | None) -> None:
        self.base = platform.base_url
        self.http = requests.Session()
        if phone is not None:
            with platform.store("gateway").transaction() as session:
                person = sessions.person_for(session, mainland_mobile(phone), utcnow())
                token = sessions.start(session, person, utcnow())
            self.http.cookies.set(sessions.COOKIE, token)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=15)

    def post(self, path: str, data: dict) -> requests.Response:
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=15)

    def csrf(self) -> str:
        return CSRF.search(self.get("/v").text).group(1)


@pytest.fixture
def estate_company(platform):
    """A company of its own with two volunteers whose phones volunteer nowhere else."""
    api = company_in(platform, f"志愿社区{uuid.uuid4().hex[:6]}", f"回访物业{uuid.uuid4().hex[:6]}")
    api.people = {}
    for name in ("赵志红", "钱卫国"):
        phone = new_phone()
        api.people[register(api, name, phone)["id"]] = phone
    return api


def visit_now(api, case_id: str) -> dict:
    return api.get(f"/api/v1/cases/{case_id}/visits").json()["data"][0]


def test_a_volunteer_accepts_and_completes_their_visit_and_nobody_else_can(platform, estate_company, second_company):
    api = estate_company
    resident = new_phone().replace("138", "139", 1)
    case, visit = closed_case_visit(api, resident)
    mine = api.people[visit["volunteer_id"]]
    others = [phone for vid, phone in api.people.items() if vid != visit["volunteer_id"]]
    me, other = Phone(platform, mine), Phone(platform, others[0])
    outsider = Phone(platform, "13800000101")  # a volunteer of other companies (second_company's)
    path = f"/v/visits/{visit['id']}"

    listing = me.get("/v")
    assert listing.status_code == 200, listing.text
    assert listing.headers["Cache-Control"] == "no-store"
    assert "楼道灯不亮" in listing.text and "3号楼" in listing.text and "3-2-501" in listing.text
    assert api.estate_id and "花园" in listing.text  # the estate's name, from the requests service
    assert spaced(resident) in listing.text and f"tel:+86{resident}" in listing.text
    assert "待接受" in listing.text
    due = datetime.fromisoformat(visit["due_at"].replace("Z", "+00:00")).astimezone(UTC) + timedelta(hours=8)
    assert f"{due.month}月{due.day}日" in listing.text and f"{due:%H:%M}" in listing.text  # Asia/Shanghai

    # Another volunteer of the company, and a volunteer of other companies: not found, nothing changes.
    for stranger in (other, outsider):
        assert visit["id"] not in stranger.get("/v").text and resident not in stranger.get("/v").text
        assert stranger.get(path).status_code == 404
        token = stranger.csrf()
        for action, form in (("accept", {}), ("complete", {"outcome": "satisfied"}), ("decline", {"reason": "x"})):
            refused = stranger.post(f"{path}/{action}", {"csrf": token} | form)
            assert refused.status_code == 404, (action, refused.text)
    assert visit_now(api, case["id"]) == visit

    # No CSRF token, or another session's: 403, nothing changed.
    assert me.post(f"{path}/accept", {}).status_code == 403
    assert me.post(f"{path}/complete", {"csrf": other.csrf(), "outcome": "unsatisfied"}).status_code == 403
    assert visit_now(api, case["id"]) == visit

    token = me.csrf()
    accepted = me.post(f"{path}/accept", {"csrf": token})
    assert (accepted.status_code, accepted.headers["Location"]) == (303, f"{path}?done=accepted")
    assert visit_now(api, case["id"])["accepted_at"] is not None
    page = me.get(f"{path}?done=accepted")
    assert "已接受这次回访" in page.text and "已接受" in page.text and spaced(resident) in page.text
    assert 'action="' + path + '/accept"' not in page.text  # accepted: the form is gone

    bad = me.post(f"{path}/complete", {"csrf": token, "outcome": "maybe"})
    assert bad.status_code == 422 and "回访结果" in bad.text
    assert visit_now(api, case["id"])["status"] == "scheduled"

    done = me.post(f"{path}/complete", {"csrf": token, "outcome": "unsatisfied", "notes": "灯还是一闪一闪"})
    assert (done.status_code, done.headers["Location"]) == (303, f"{path}?done=completed")
    reopened = wait_for(lambda: api.get(f"/api/v1/cases/{case['id']}").json()["status"] == "reopened", timeout=30)
    assert reopened
    finished = visit_now(api, case["id"])
    assert (finished["status"], finished["outcome"]) == ("completed", "unsatisfied")
    assert finished["notes"] == "灯还是一闪一闪"

    # Done: shown as done, without the resident's phone anywhere.
    for seen in (me.get(path), me.get("/v")):
        assert seen.status_code == 200
        assert "已完成" in seen.text and "不满意" in seen.text and resident not in seen.text
    # A stale form (posted again from the old page): the page says so, nothing changes.
    again = me.post(f"{path}/complete", {"csrf": token, "outcome": "satisfied"})
    assert again.status_code == 409 and "没有生效" in again.text
    assert visit_now(api, case["id"]) == finished
    ledger = api.get(f"/api/v1/hours?volunteer_id={visit['volunteer_id']}").json()["data"]
    assert [line["source_id"] for line in ledger] == [visit["id"]]


def test_not_signed_in_is_sent_to_sign_in_and_changes_nothing(platform, estate_company):
    case, visit = closed_case_visit(estate_company, "13900088001")
    anonymous = Phone(platform, None)
    for path in ("/v", "/v/hours", "/v/shifts", f"/v/visits/{visit['id']}"):
        response = anonymous.get(path)
        assert (response.status_code, response.headers["Location"]) == (303, f"/signin?next={path}")
    posted = anonymous.post(f"/v/visits/{visit['id']}/complete", {"outcome": "unsatisfied", "csrf": "x"})
    assert posted.status_code == 303 and posted.headers["Location"].startswith("/signin?next=")
    assert visit_now(estate_company, case["id"]) == visit


def test_a_phone_in_no_registry_is_told_it_is_no_volunteer(platform):
    stranger = Phone(platform, new_phone())
    for path in ("/v", "/v/hours", "/v/shifts"):
        response = stranger.get(path)
        assert response.status_code == 200 and "您还不是志愿者" in response.text
    assert stranger.get("/v/visits/0190d3a0-0000-7000-8000-000000000000").status_code == 404


def test_decline_hands_the_visit_on_and_a_phone_of_two_companies_sees_both(platform, estate_company):
    api = estate_company
    case, visit = closed_case_visit(api, "13900088002")
    mine = api.people[visit["volunteer_id"]]
    # The same phone also volunteers for another company, with hours and a shift there.
    elsewhere = company_in(platform, f"志愿社区{uuid.uuid4().hex[:6]}", f"第二物业{uuid.uuid4().hex[:6]}")
    there = register(elsewhere, "同一人", mine)
    me = Phone(platform, mine)

    listing = me.get("/v").text
    assert api_name(platform, api) in listing and api_name(platform, elsewhere) in listing

    start = datetime.now(UTC) + timedelta(days=2)
    activity = elsewhere.post(
        "/api/v1/activities",
        {
            "title": "义务理发",
            "kind": "haircut",
            "estate_ids": [elsewhere.estate_id],
            "place": "党群服务中心",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": 10,
            "shifts": [{"name": "理发", "needed": 1}],
            "publish": True,
        },
    ).json()
    shift = activity["shifts"][0]["id"]
    assert (
        elsewhere.post(
            f"/api/v1/activities/{activity['id']}/shifts/{shift}/signups", {"volunteer_id": there["id"]}
        ).status_code
        == 201
    )
    shifts = me.get("/v/shifts")
    assert shifts.status_code == 200 and "义务理发 / 理发" in shifts.text and "党群服务中心" in shifts.text

    token = me.csrf()
    no_reason = me.post(f"/v/visits/{visit['id']}/decline", {"csrf": token, "reason": "  "})
    assert no_reason.status_code == 422 and "请说明不能前往的原因" in no_reason.text
    assert visit_now(api, case["id"])["volunteer_id"] == visit["volunteer_id"]  # still mine: nothing changed
    declined = me.post(f"/v/visits/{visit['id']}/decline", {"csrf": token, "reason": "这几天出差"})
    assert (declined.status_code, declined.headers["Location"]) == (303, "/v?done=declined")
    moved = visit_now(api, case["id"])
    assert moved["volunteer_id"] != visit["volunteer_id"] and moved["declined_by"] == [visit["volunteer_id"]]
    # The reason is kept for staff to read (it was asked and then lost before).
    assert [(d["volunteer_id"], d["reason"]) for d in moved["declines"]] == [(visit["volunteer_id"], "这几天出差")]
    assert me.get(f"/v/visits/{visit['id']}").status_code == 404
    assert "已婉拒" in me.get("/v?done=declined").text

    # The new volunteer completes it; their hours and the company's ranking show on /v/hours.
    taker = Phone(platform, api.people[moved["volunteer_id"]])
    done = taker.post(f"/v/visits/{visit['id']}/complete", {"csrf": taker.csrf(), "outcome": "satisfied"})
    assert done.status_code == 303
    hours = taker.get("/v/hours")
    assert hours.status_code == 200
    assert 'class="sum">1<' in hours.text and "回访: 楼道灯不亮" in hours.text
    assert 'class="me"' in hours.text and "服务时长榜" in hours.text
    mine_hours = me.get("/v/hours").text
    assert mine_hours.count('class="sum">0<') == 2  # no hours yet in either company


def api_name(platform, api) -> str:
    from services.gateway.models import Tenant

    with platform.store("gateway").read() as session:
        return session.get(Tenant, api.tenant_id).name
