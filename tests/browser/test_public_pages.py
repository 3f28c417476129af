"""The estate's public pages in real headless Chromium: the board (向业主晒事) and the activity calendar."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_board_of_an_estate(platform, browser, company):
    shown = company.case(company.estate_id, phone="13912380001", household="9-1-301", title="楼道灯不亮")
    company.close(shown["id"])
    page = browser.page("board", javascript=False)
    assert page.goto(platform.base_url + f"/p/estates/{company.estate_id}/board") == 200
    assert page.text("h1") == "东方现代城 · 办事公示"
    assert page.count(".card") == 1
    assert page.text(".card .title") == "水电维修楼道灯不亮"
    assert "9号楼" in page.text(".card") and "陈先生" not in page.text("main")
    assert page.screenshot("board").stat().st_size > 10_000


def test_the_activity_calendar_of_an_estate(platform, browser, company):
    created = company.post(
        "/api/v1/activities",
        {
            "title": "社区义诊",
            "kind": "free_clinic",
            "estate_ids": [company.estate_id],
            "place": "党群服务中心",
            "starts_at": "2099-01-05T09:00:00+08:00",
            "ends_at": "2099-01-05T11:00:00+08:00",
            "capacity": 30,
            "publish": True,
        },
    )
    assert created.status_code == 201, created.text
    page = browser.page("calendar", javascript=False)
    url = platform.base_url + f"/p/estates/{company.estate_id}/calendar?week_of=2099-01-05"
    assert page.goto(url) == 200
    assert page.text("h1") == "社区活动日历"
    assert page.count(".card") == 1
    assert "社区义诊" in page.text(".card .title") and "09:00" in page.text(".card")
    assert page.screenshot("calendar").stat().st_size > 10_000
