"""A dispatcher handles a water outage at the workbench in real Chromium (no JavaScript): declares
it, finds two residents' cases about it in the queue, merges both into it, posts an update,
resolves it, and sees the broadcasts reach every household; then composes a notice to a building
on a phone and watches it finish. Screenshots (a laptop and 390×844) are kept in
tests/browser/screenshots/workbench-incident-*.png and workbench-broadcast-*.png."""

from __future__ import annotations

import uuid

import pytest

from tests.support.browser import invited, sign_in
from tests.support.infra import wait_for
from tests.support.people import sign_in as session_for

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
HOUSEHOLDS = 8


def households(company, n: int, building: str = "3") -> None:
    """``n`` households of the company's estate in its contacts (the people a broadcast tells)."""
    tag = uuid.uuid4().int % 10**6
    contacts = [{"phone": f"135{tag:06d}{i:02d}", "name": f"住户{i}", "estate_id": company.estate_id,
                 "household": f"{building}-1-{100 + i}"} for i in range(n)]  # fmt: skip
    assert company.post("/api/v1/contact-imports", {"contacts": contacts}).status_code == 200


def test_a_dispatcher_declares_an_outage_merges_two_cases_posts_an_update_resolves_it_and_sees_the_reach(
    platform, company, browser, sign_in_codes
):
    households(company, HOUSEHOLDS)
    dispatcher = invited(platform, company, "company_admin", "张调度")
    page = browser.page("incident-dispatcher", javascript=False, viewport=LAPTOP)
    assert page.goto(f"{platform.base_url}/workbench/incidents") == 200  # the sign-in form, after a 303
    sign_in(page, sign_in_codes, dispatcher)
    assert page.url().endswith("/workbench/incidents")

    page.click("a.button[href='/workbench/incidents/new']", navigates=True)
    page.select("select[name=estate_id]", company.estate_id)
    page.select("select[name=kind]", "water_outage")
    page.fill("input[name=title]", "3号楼停水两天")
    page.fill("textarea[name=description]", "主管道爆裂，正在抢修；送水车停在3号楼门口，每户每天两桶。")
    page.fill("input[name=expected_end]", "2099-12-03T18:00")
    page.screenshot("workbench-incident-new")
    page.click("#declare button[type=submit]", navigates=True)
    assert page.text("h1").startswith("3号楼停水两天")
    assert page.text("#status") == "进行中"
    incident_url = page.url().split("?")[0]

    # Two residents report it; their cases appear in the queue.
    cases = [company.case(company.estate_id, phone=f"1391236{n:04d}", household=f"3-1-{n}02", title=title)
             for n, title in ((1, "家里没水了"), (2, "3号楼停水多久？"))]  # fmt: skip
    page.goto(f"{platform.base_url}/workbench")
    for case in cases:
        assert page.count(f"tr[data-case='{case['id']}']") == 1

    page.goto(incident_url)
    for case in cases:
        page.click(f"#merge input[value='{case['id']}']")
    page.screenshot("workbench-incident-merging")
    page.click("#merge button[type=submit]", navigates=True)
    assert page.count("#merged li[data-case]") == 2
    page.fill("#update textarea[name=body]", "送水车已到3号楼门口，抢修预计明晚完成。")
    page.click("#update button[type=submit]", navigates=True)
    assert "送水车已到3号楼门口" in page.text("#updates")
    page.fill("#resolve textarea[name=resolution]", "主管道已修复，恢复供水。")
    page.click("#resolve button[type=submit]", navigates=True)
    assert page.text("#status") == "已解除"
    for case in cases:
        assert company.get(f"/api/v1/cases/{case['id']}").json()["status"] == "closed"

    def reached() -> bool:  # declared, updated, resolved: each sent to every household
        page.goto(incident_url)
        return page.count("#reach tr[data-status=done]") == 3

    wait_for(reached, timeout=30)
    assert page.text("#reach tr[data-broadcast] [data-count=total]") == str(HOUSEHOLDS)
    assert page.text("#reach tr[data-broadcast] [data-count=sent]") == str(HOUSEHOLDS)
    page.screenshot("workbench-incident-resolved-reach")
    page.goto(f"{platform.base_url}/workbench/incidents")
    page.screenshot("workbench-incidents")

    phone = browser.page("incident-phone", javascript=False, viewport=PHONE)
    phone.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + dispatcher).token)
    assert phone.goto(incident_url) == 200
    reach = phone.box("#reach")
    assert reach["x"] >= 0 and reach["x"] + reach["width"] <= PHONE["width"]
    phone.screenshot("workbench-incident-phone")
    assert phone.goto(f"{platform.base_url}/workbench/incidents") == 200
    phone.screenshot("workbench-incidents-phone")


def test_a_notice_to_a_building_composed_on_a_phone_shows_its_progress_until_sent(platform, company, browser):
    households(company, 5, building="9")
    clerk = invited(platform, company, "company_staff", "李师傅")
    page = browser.page("broadcast-phone", javascript=False, viewport=PHONE)
    page.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + clerk).token)
    assert page.goto(f"{platform.base_url}/workbench/broadcasts/new") == 200
    page.select("select[name=estate_id]", company.estate_id)
    page.fill("input[name=building]", "9")
    page.fill("input[name=title]", "9号楼电梯检修")
    page.fill("textarea[name=body]", "周六9点至12点电梯停用，请走楼梯。")
    button = page.box("#compose button[type=submit]")
    assert button["x"] + button["width"] <= PHONE["width"] and button["height"] >= 40
    page.screenshot("workbench-broadcast-new-phone")
    page.click("#compose button[type=submit]", navigates=True)
    assert page.text("[data-count=total]") == "5"
    detail = page.url().split("?")[0]

    def sent() -> bool:
        page.goto(detail)
        return page.text("#status") == "已发完"

    wait_for(sent, timeout=30)
    assert page.text("[data-count=sent]") == "5" and page.text("[data-count=failed]") == "0"
    page.screenshot("workbench-broadcast-phone")
    laptop = browser.page("broadcast-laptop", javascript=False, viewport=LAPTOP)
    laptop.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + clerk).token)
    assert laptop.goto(f"{platform.base_url}/workbench/broadcasts") == 200
    assert laptop.count("tr[data-broadcast]") >= 1
    laptop.screenshot("workbench-broadcasts")
