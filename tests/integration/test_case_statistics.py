"""The company's statistics over HTTP: ``GET /api/v1/case-statistics`` with exact figures for a
small world (tests/support/statistics.py), and the workbench's 统计 page, which puts them beside
the survey figures by name. Another company's cases never count; its estate is a 404."""

from __future__ import annotations

import re

import pytest

from services.common.db import utcnow
from services.surveys.issuing import month_of
from tests.support.people import anonymous, staff_browser
from tests.support.statistics import statistics_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(platform):
    return statistics_world(platform)


def figures(row: dict) -> tuple:
    return row["cases"], row["resolved"], row["on_time"], row["reopened"], row["on_time_rate"], row["reopen_rate"]


def test_the_api_counts_the_company_s_own_cases_on_time_and_reopened(world):
    a, b = world.a, world.b
    [mine] = a.get("/api/v1/case-statistics").json()["data"]
    assert figures(mine) == (3, 2, 1, 1, 0.5, 0.5)  # B's closed case is not among them
    by = a.get("/api/v1/case-statistics", params={"group_by": "estate,category,month"}).json()
    month = month_of(utcnow())
    assert by == {"has_more": False, "data": [
        {"estate_id": a.estate_id, "category": "noise", "assignee": None, "month": month, "cases": 1, "resolved": 0,
         "on_time": 0, "reopened": 0, "on_time_rate": None, "reopen_rate": None},
        {"estate_id": a.estate_id, "category": "repair", "assignee": None, "month": month, "cases": 2, "resolved": 2,
         "on_time": 1, "reopened": 1, "on_time_rate": 0.5, "reopen_rate": 0.5},
    ]}  # fmt: skip
    [theirs] = b.get("/api/v1/case-statistics", params={"group_by": "estate"}).json()["data"]
    assert (theirs["estate_id"], *figures(theirs)) == (b.estate_id, 1, 1, 1, 0, 1.0, 0.0)
    assert a.get("/api/v1/case-statistics", params={"from": month, "to": month}).json()["data"] == [mine]
    assert a.get("/api/v1/case-statistics", params={"to": "2000-01"}).json()["data"] == []


def test_the_api_refuses_another_company_s_estate_and_a_bad_month_or_grouping(world):
    a, b = world.a, world.b
    other = a.get("/api/v1/case-statistics", params={"estate_id": b.estate_id})
    assert other.status_code == 404
    bad = a.get("/api/v1/case-statistics", params={"from": "2026-13", "group_by": "planet"})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"from", "group_by"}
    assert a.get("/api/v1/case-statistics", headers={"Authorization": "Bearer nope"}).status_code == 401


def cells(page: str) -> dict[str, dict[str, str]]:
    """The statistics table: group label → figure → text."""
    table = {}
    for row in re.findall(r"<tr data-group=.*?</tr>", page, re.S):
        label = re.search(r"<td>([^<]*)</td>", row).group(1)
        table[label] = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row))
    return table


def test_the_page_puts_satisfaction_beside_on_time_and_reopen_rates_by_name(platform, world):
    a = world.a
    clerk = staff_browser(platform, a.tenant_id, "company_staff")
    page = clerk.get(platform.base_url + "/workbench/statistics", allow_redirects=False)
    assert page.status_code == 200, page.text
    assert '<a href="/workbench/statistics">统计</a>' in page.text
    assert cells(page.text) == {"东方花园": {
        "csat": "100%", "responses": "1", "response_rate": "100%", "nps": "—",
        "cases": "3", "resolved": "2", "on_time": "50%", "reopen": "50%"}}  # fmt: skip
    assert [name for name in ("csat", "on_time", "reopen") if f'data-chart="{name}"' in page.text] == [
        "csat", "on_time", "reopen"]  # fmt: skip
    assert page.text.count("<svg") == 3 and "<title>东方花园：50%</title>" in page.text
    by_category = clerk.get(platform.base_url + "/workbench/statistics?group=category").text
    assert cells(by_category) == {
        "水电维修": {"csat": "100%", "responses": "1", "response_rate": "100%", "nps": "—",
                 "cases": "2", "resolved": "2", "on_time": "50%", "reopen": "50%"},
        "噪音扰民": {"csat": "—", "responses": "—", "response_rate": "—", "nps": "—",
                 "cases": "1", "resolved": "0", "on_time": "—", "reopen": "—"},
    }  # fmt: skip
    by_assignee = cells(clerk.get(platform.base_url + "/workbench/statistics?group=assignee").text)
    assert {label: row["cases"] for label, row in by_assignee.items()} == {"王师傅": "2", "未派单": "1"}


def test_staff_of_another_company_see_only_theirs_and_bad_input_is_shown_back(platform, world):
    a, b = world.a, world.b
    theirs = staff_browser(platform, b.tenant_id, "company_admin")
    page = theirs.get(platform.base_url + "/workbench/statistics").text
    assert set(cells(page)) == {"远洋花园"} and cells(page)["远洋花园"]["cases"] == "1" and "东方花园" not in page
    foreign = theirs.get(platform.base_url + f"/workbench/statistics?estate_id={a.estate_id}")
    assert foreign.status_code == 404 and "没有找到这个小区" in foreign.text and "东方花园" not in foreign.text
    bad = theirs.get(platform.base_url + "/workbench/statistics?group=month&from=2026-13&to=2026-12")
    assert bad.status_code == 422
    assert 'name="from" value="2026-13"' in bad.text and 'name="to" value="2026-12"' in bad.text
    assert re.search(r'data-field="from">月份格式为 YYYY-MM<', bad.text)
    assert '<option value="month" selected>' in bad.text and "<tr data-group" not in bad.text
    planet = theirs.get(platform.base_url + "/workbench/statistics?group=planet")
    assert planet.status_code == 422 and re.search(r'data-field="group">请选择分组<', planet.text)
    supervisor = staff_browser(platform, None, "supervisor", community="政通路社区")
    assert supervisor.get(platform.base_url + "/workbench/statistics").status_code == 403
    assert anonymous(platform, "/workbench/statistics").status_code == 303
