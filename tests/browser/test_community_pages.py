"""The league table and the supervisor's dashboard in real headless Chromium, with screenshots."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_league_table_page(platform, browser, community_world):
    page = browser.page("league")
    assert page.goto(platform.base_url + f"/p/communities/{community_world['name']}/league") == 200
    assert page.text("h1") == f"{community_world['name']} · 物业服务红黑榜"
    assert page.count("table tbody tr") == 4  # two companies, two estates: the small company is withheld
    assert page.count("svg.chart") == 2
    assert page.box("svg.chart")["width"] > 200  # drawn, not collapsed, on a phone-sized screen
    assert page.screenshot("league").stat().st_size > 10_000


def test_the_supervisor_signs_in_and_sees_the_dashboard(platform, browser, community_world):
    page = browser.page("dashboard")
    assert page.goto(platform.base_url + "/p/dashboard") == 200  # after the redirect to the sign-in page
    assert page.text("h1") == "红色物业督办台"
    page.fill("#key", community_world["supervisor"])
    page.click("button[type=submit]", navigates=True)
    assert page.text("h1") == f"{community_world['name']} · 红色物业督办台"
    assert page.text("#open") == "1"
    assert page.count("svg.chart rect.closed") == 12
    assert page.screenshot("dashboard").stat().st_size > 10_000
