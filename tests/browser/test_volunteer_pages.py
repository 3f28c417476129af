"""A volunteer on a 360 px phone, no JavaScript: signs in with a one-time code (read from the
development log channel), opens the visit, accepts it, completes it as unsatisfied, and the
case reopens; screenshots of every page in tests/browser/screenshots/.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.fields import mainland_mobile
from tests.support.api import company_in
from tests.support.infra import wait_for
from tests.support.volunteers import closed_case_visit, new_phone, register, spaced

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 800}


def test_a_volunteer_completes_a_visit_on_a_small_phone(platform, browser, sign_in_codes):
    api = company_in(platform, f"志愿社区{uuid.uuid4().hex[:6]}", f"红心物业{uuid.uuid4().hex[:6]}")
    people = {}
    for name in ("孙秀英", "周建华"):
        phone = new_phone()
        people[register(api, name, phone)["id"]] = phone
    resident = "13900099001"
    case, visit = closed_case_visit(api, resident)
    holder_shift(api, visit["volunteer_id"])
    phone = people[visit["volunteer_id"]]

    page = browser.page("volunteer", javascript=False, viewport=PHONE)
    assert page.goto(platform.base_url + "/v") == 200  # after the redirect to /signin?next=/v
    assert page.url().endswith("/signin?next=/v") and page.text("h1") == "手机号登录"
    page.fill("#phone", phone)
    page.click("button[type=submit]", navigates=True)
    page.fill("#code", sign_in_codes.code_for(mainland_mobile(phone)))
    page.screenshot("volunteer-signin-code")
    page.click("form[action='/signin'] button[type=submit]", navigates=True)
    assert page.url().endswith("/v")
    assert page.text("h1") == "我的回访"
    assert spaced(resident) in page.text(f"#visit-{visit['id']}")
    assert page.box("main")["width"] <= PHONE["width"]
    page.screenshot("volunteer-visits")

    page.click(f"#visit-{visit['id']} a.row", navigates=True)
    assert page.url().endswith(f"/v/visits/{visit['id']}")
    assert page.text("#state") == "待接受"
    assert page.box("#accept")["width"] >= 280 and page.box("#accept")["height"] >= 44  # thumb-sized
    page.screenshot("volunteer-visit")

    page.click("#accept", navigates=True)
    assert page.text("#state") == "已接受"
    assert page.count("#accept") == 0
    page.click("label:has(input[value=unsatisfied])")
    page.fill("#notes", "灯修好两天又坏了，居民希望换整套灯具")
    page.screenshot("volunteer-visit-accepted")

    page.click("#complete", navigates=True)
    assert page.text("#state") == "已完成"
    assert page.text("#outcome") == "不满意"
    assert page.count("#resident-phone") == 0 and page.count("form[action$=complete]") == 0
    page.screenshot("volunteer-visit-done")
    assert wait_for(lambda: api.get(f"/api/v1/cases/{case['id']}").json()["status"] == "reopened", timeout=30)

    assert page.goto(platform.base_url + "/v/hours") == 200
    assert page.text(".total .sum") == "1"
    page.screenshot("volunteer-hours")
    assert page.goto(platform.base_url + "/v/shifts") == 200
    assert page.count("article.shift") == 1 and "社区义诊 / 引导登记" in page.text("article.shift")
    page.screenshot("volunteer-shifts")


def holder_shift(api, volunteer_id: str) -> None:
    """A published activity two days from now with the volunteer on its one shift."""
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    body = {
        "title": "社区义诊",
        "kind": "free_clinic",
        "estate_ids": [api.estate_id],
        "place": "党群服务中心二楼",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "capacity": 30,
        "shifts": [{"name": "引导登记", "needed": 2}],
        "publish": True,
    }
    activity = api.post("/api/v1/activities", body).json()
    signup = f"/api/v1/activities/{activity['id']}/shifts/{activity['shifts'][0]['id']}/signups"
    assert api.post(signup, {"volunteer_id": volunteer_id}).status_code == 201
