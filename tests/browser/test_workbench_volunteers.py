"""A coordinator runs a free clinic at the workbench in real Chromium (no JavaScript): registers a
doctor as a volunteer, creates the clinic as a draft with a shift, publishes it, puts the doctor
on the shift; a resident signs up; after the clinic a colleague, on a phone, ticks who came and
sees the doctor's hours credited. Screenshots (a laptop and 360×800) are kept in
tests/browser/screenshots/workbench-volunteers-*.png."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from services.common.db import utcnow
from tests.support.browser import invited, sign_in
from tests.support.volunteers import into_the_past, local_minutes, new_phone, resident_signs_up

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 800}


def test_a_coordinator_creates_publishes_staffs_and_records_attendance_of_a_clinic(
    platform, company, browser, sign_in_codes
):
    coordinator = invited(platform, company, "company_staff", "王干事")
    page = browser.page("volunteers-coordinator", javascript=False, viewport=LAPTOP)
    assert page.goto(f"{platform.base_url}/workbench/volunteers") == 200  # the sign-in form, after a 303
    sign_in(page, sign_in_codes, coordinator)
    assert page.url().endswith("/workbench/volunteers")

    doctor = new_phone()
    page.fill("#add input[name=name]", "李医生")
    page.fill("#add input[name=phone]", doctor)
    page.click(f"#add input[name=estate_ids][value='{company.estate_id}']")
    page.click("#add input[name=skills][value=medical]")
    page.click("#add button[type=submit]", navigates=True)
    assert page.text("h1").startswith("李医生") and doctor not in page.text("h1")
    page.screenshot("workbench-volunteers-doctor")

    page.click("nav.subnav a[href='/workbench/activities']", navigates=True)
    start = utcnow().replace(second=0, microsecond=0, tzinfo=UTC) + timedelta(days=2)
    page.fill("#activity input[name=title]", "冬季社区义诊")
    page.select("#activity select[name=kind]", "free_clinic")
    page.select("#activity select[name=estate_id]", company.estate_id)
    page.fill("#activity input[name=place]", "党群服务中心")
    page.fill("#activity input[name=capacity]", "30")
    page.fill("#activity input[name=starts_at]", local_minutes(start))
    page.fill("#activity input[name=ends_at]", local_minutes(start + timedelta(hours=3)))
    page.fill("#activity input[name=shift_name]", "量血压")
    page.fill("#activity input[name=shift_needed]", "1")
    page.screenshot("workbench-volunteers-new-activity")
    page.click("#activity button[type=submit]", navigates=True)
    assert page.text("h1").startswith("冬季社区义诊") and page.text("#status") == "草稿"
    activity_url = page.url().split("?")[0]
    activity_id = activity_url.rsplit("/", 1)[1]

    page.click("#publish button[type=submit]", navigates=True)
    assert page.text("#status") == "已发布"
    (volunteer,) = [v for v in company.get("/api/v1/volunteers").json()["data"] if v["name"] == "李医生"]
    page.select("#shifts select[name=volunteer_id]", volunteer["id"])
    page.click("#shifts button[type=submit]", navigates=True)
    assert "李医生" in page.text("#shifts")
    resident_signs_up(platform, company, activity_id, "5-1-302")
    page.goto(activity_url)
    assert page.count("#signups tr[data-status=confirmed]") == 1
    page.screenshot("workbench-volunteers-published")

    into_the_past(platform, activity_id)  # the clinic took place
    colleague = invited(platform, company, "company_staff", "赵干事")  # at the clinic, on a phone
    phone = browser.page("volunteers-colleague-phone", javascript=False, viewport=PHONE)
    phone.goto(activity_url)
    sign_in(phone, sign_in_codes, colleague)
    assert phone.url().split("?")[0] == activity_url
    phone.click("#attendance input[name=resident_came]")
    phone.click("#attendance input[name=volunteer_came]")
    phone.screenshot("workbench-volunteers-attendance-phone")
    phone.click("#attendance button[type=submit]", navigates=True)
    assert "出勤已记录" in phone.text(".notice")
    assert "到场，已计时长" in phone.text("#shifts") and phone.count("#attendance input[type=checkbox]") == 0
    assert phone.box("main")["width"] <= PHONE["width"]  # nothing pushes the page sideways
    phone.screenshot("workbench-volunteers-attended-phone")

    phone.goto(f"{platform.base_url}/workbench/volunteers")
    assert phone.text(f"tr[data-volunteer='{volunteer['id']}'] td[data-hours]") == "3.0 小时"
    phone.screenshot("workbench-volunteers-hours-phone")
    (line,) = company.get(f"/api/v1/hours?volunteer_id={volunteer['id']}").json()["data"]
    assert (line["source"], line["hours"]) == ("shift", 3.0)
