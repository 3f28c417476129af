"""The league table, and the supervisor's old dashboard address, in real headless Chromium, with screenshots."""

from __future__ import annotations

import uuid

import pytest

from services.common.db import utcnow
from services.gateway import staff
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


def test_the_league_table_page(platform, browser, community_world):
    page = browser.page("league")
    assert page.goto(platform.base_url + f"/p/communities/{community_world['name']}/league") == 200
    assert page.text("h1") == f"{community_world['name']} · 物业服务红黑榜"
    assert page.count("table tbody tr") == 4  # two companies, two estates: the small company is withheld
    assert page.count("svg.chart") == 2
    assert page.box("svg.chart")["width"] > 200  # drawn, not collapsed, on a phone-sized screen
    assert page.screenshot("league").stat().st_size > 10_000


def test_the_old_dashboard_address_leads_the_supervisor_to_sign_in_by_phone(
    platform, browser, community_world, sign_in_codes
):
    """No key to type any more: /p/dashboard → the branch's view at the workbench → the phone sign-in."""
    chief = "137" + f"{uuid.uuid4().int % 10**8:08d}"
    with platform.store("gateway").transaction() as session:
        # community_world is shared by the session (the HTTP test invites a supervisor too)
        staff.invite(
            session, "+86" + chief, "赵书记", "supervisor", "test", utcnow(), community=community_world["name"]
        )
    page = browser.page("dashboard")
    assert page.goto(platform.base_url + "/p/dashboard") == 200  # after the redirects to the sign-in page
    sign_in(page, sign_in_codes, chief)
    assert page.url().endswith("/workbench/branch")
    assert page.text("h1") == f"{community_world['name']} · 党支部督办"
    assert page.text("#open") == "1"
    assert page.count("svg.chart rect.closed") == 12
    assert page.screenshot("dashboard").stat().st_size > 10_000
