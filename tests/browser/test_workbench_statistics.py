"""A company's staff member reads the statistics (统计) in real Chromium with no JavaScript: signs
in, follows the nav link, sees satisfaction beside on-time and reopen rates with three SVG bar
charts, regroups by category through the form; then the same page on a 360 px phone, where the
wide table scrolls inside its own box and nothing leaves the screen. Screenshots:
tests/browser/screenshots/workbench-statistics-laptop.png and workbench-statistics-phone.png."""

from __future__ import annotations

import uuid

import pytest

from services.common.db import utcnow
from services.gateway import staff
from tests.support.browser import sign_in
from tests.support.people import sign_in as session_for
from tests.support.statistics import statistics_world

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


def test_staff_read_the_statistics_regroup_them_and_the_page_fits_a_phone(platform, browser, sign_in_codes):
    world = statistics_world(platform)
    clerk = "137" + f"{uuid.uuid4().int % 10**8:08d}"
    with platform.store("gateway").transaction() as session:
        staff.invite(session, "+86" + clerk, "王统计", "company_staff", "test", utcnow(), tenant_id=world.a.tenant_id)
    page = browser.page("statistics-laptop", javascript=False, viewport=LAPTOP)
    assert page.goto(f"{platform.base_url}/workbench") == 200
    sign_in(page, sign_in_codes, clerk)
    page.click("header nav a[href='/workbench/statistics']", navigates=True)
    assert page.text("h1") == "统计"
    assert page.count("tr[data-group]") == 1 and page.text("tr[data-group] td") == "东方花园"
    assert [page.text(f"tr[data-group] td[data-figure={f}]") for f in ("csat", "on_time", "reopen")] == [
        "100%", "50%", "50%"]  # fmt: skip
    assert page.count("section[data-chart] svg") == 3
    page.select("select[name=group]", "category")
    page.click("form.filters button[type=submit]", navigates=True)
    assert "group=category" in page.url()
    assert page.count("tr[data-group]") == 2 and page.text("table.statistics th") == "类别"
    page.screenshot("workbench-statistics-laptop")

    phone = browser.page("statistics-phone", javascript=False, viewport=PHONE)
    phone.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + clerk).token)  # signed in already
    assert phone.goto(f"{platform.base_url}/workbench/statistics?group=category") == 200
    for selector in ("div.scroll", "select[name=group]", "form.filters button", "section[data-chart=on_time] svg"):
        box = phone.box(selector)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    assert phone.box("form.filters button")["height"] >= 40
    phone.screenshot("workbench-statistics-phone")
