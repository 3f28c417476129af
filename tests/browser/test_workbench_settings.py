"""A company admin walks the settings on a phone in real Chromium (no JavaScript): from the
header's 设置 through the sub-nav, changes a category's SLA hours, sets quiet hours and the
survey timing, issues an API key (shown once, gone on a reload), has a webhook URL the address
policy refuses put back with its message, subscribes an allowed one and rotates its secret.
Screenshots (390×844) are kept in tests/browser/screenshots/workbench-settings-*.png."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.people import clerk_of
from tests.support.people import sign_in as session_for
from tests.support.settings import ALLOWED_HOOK

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def fits(page, selector: str) -> None:
    """The element is inside the phone's width (nothing to scroll sideways for)."""
    box = page.box(selector)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)


def test_an_admin_walks_the_settings_on_a_phone(platform, company, browser):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    page = browser.page("settings-phone", javascript=False, viewport=PHONE)
    page.cookie(platform.base_url, "lx_session", session_for(platform, admin.phone).token)
    assert page.goto(f"{platform.base_url}/workbench") == 200
    page.click("header.bar nav a[href='/workbench/settings/staff']", navigates=True)
    assert page.text("nav.settings a.on") == "人员"
    page.screenshot("workbench-settings-staff-phone")

    page.click("nav.settings a[href='/workbench/settings/categories']", navigates=True)
    page.fill("tr[data-category=repair] input[name=response_hours]", "1")
    page.fill("tr[data-category=repair] input[name=resolution_hours]", "24")
    fits(page, "tr[data-category=repair] button[type=submit]")
    page.click("tr[data-category=repair] button[type=submit]", navigates=True)
    assert page.text("p.notice") == "类别已保存"
    assert page.text("tr[data-category=repair] [data-sla=resolution]") == "24.0"
    page.screenshot("workbench-settings-categories-phone")

    page.click("nav.settings a[href='/workbench/settings/notifications']", navigates=True)
    page.fill("input[name=quiet_start]", "22:00")
    page.fill("input[name=quiet_end]", "07:30")
    page.click("#notifications button[type=submit]", navigates=True)
    assert page.text("p.notice") == "通知设置已保存"
    page.screenshot("workbench-settings-notifications-phone")

    page.click("nav.settings a[href='/workbench/settings/surveys']", navigates=True)
    page.fill("input[name=expiry_days]", "十天")
    page.click("#surveys button[type=submit]", navigates=True)
    assert page.text("[data-field=expiry_days]") == "请填写整数"
    page.fill("input[name=expiry_days]", "10")
    page.click("#surveys button[type=submit]", navigates=True)
    assert company.get("/api/v1/survey-settings").json()["expiry_days"] == 10
    page.screenshot("workbench-settings-surveys-phone")

    page.click("nav.settings a[href='/workbench/settings/keys']", navigates=True)
    page.select("select[name=role]", "company_staff")
    page.click("#new-key button[type=submit]", navigates=True)
    key = page.text("code.secret")
    assert key.startswith("lx_live_") and Api(platform, key).get("/api/v1/me").json()["role"] == "company_staff"
    fits(page, "code.secret")
    page.screenshot("workbench-settings-key-once-phone")
    assert page.goto(f"{platform.base_url}/workbench/settings/keys") == 200
    assert page.count("code.secret") == 0 and page.count("tr[data-key]") >= 2

    page.click("nav.settings a[href='/workbench/settings/webhooks']", navigates=True)
    page.fill("input[name=url]", "http://169.254.169.254/latest/meta-data/")
    page.click("input[value='case.closed']")
    page.click("#new-webhook button[type=submit]", navigates=True)
    assert page.text("[data-field=url]").startswith("只能是 http(s) 的公网地址")
    page.screenshot("workbench-settings-webhook-refused-phone")
    page.fill("input[name=url]", ALLOWED_HOOK)
    page.click("#new-webhook button[type=submit]", navigates=True)
    first = page.text("code.secret")
    page.click("tr[data-webhook] td.url a", navigates=True)
    assert page.count("code.secret") == 0
    page.click("form[action$='/secret'] button[type=submit]", navigates=True)
    assert page.text("code.secret") not in ("", first)
    fits(page, "section[data-webhook]")
    page.screenshot("workbench-settings-webhook-phone")
    assert [h["url"] for h in company.get("/api/v1/webhooks").json()["data"]] == [ALLOWED_HOOK]
