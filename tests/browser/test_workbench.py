"""A dispatcher at the workbench in real Chromium (no JavaScript, a laptop's window): signs in
with a one-time code, finds a new case in the queue, takes it to closed, and sees the follow-up
visit and the survey appear; staff of another company get a 404 on it. Screenshots are kept in
tests/browser/screenshots/workbench-*.png for a person to look at."""

from __future__ import annotations

import pytest

from services.common.db import utcnow
from tests.support.browser import invited, sign_in
from tests.support.infra import wait_for

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}


def act(page, action: str, **fields: str) -> None:
    form = f"form[data-action={action}]"
    for name, value in fields.items():
        page.fill(f"{form} [name={name}]", value)
    page.click(f"{form} button[type=submit]", navigates=True)


def test_a_dispatcher_takes_a_new_case_from_the_queue_to_closed_and_sees_the_visit_and_survey(
    platform, company, second_company, browser, sign_in_codes
):
    dispatcher = invited(platform, company, "company_admin", "张调度")
    case = company.case(company.estate_id, title="3号楼电梯异响", phone="13912345678")

    page = browser.page("dispatcher", javascript=False, viewport=LAPTOP)
    assert page.goto(f"{platform.base_url}/workbench") == 200  # the sign-in form, after a 303
    sign_in(page, sign_in_codes, dispatcher)
    assert page.url().endswith("/workbench")
    assert page.count(f"tr[data-case='{case['id']}']") == 1
    assert "响应剩余" in page.text(f"tr[data-case='{case['id']}'] .sla")
    page.screenshot("workbench-queue")

    page.click(f"tr[data-case='{case['id']}'] a", navigates=True)
    assert page.text("h1").startswith("3号楼电梯异响")
    page.screenshot("workbench-case-new")
    act(page, "accept")
    assert page.text("#status") == "已受理"
    act(page, "assign", assignee="张调度")
    act(page, "start")
    assert page.text("#status") == "处理中"
    page.screenshot("workbench-case-in-progress")
    page.fill("#comments textarea[name=body]", "已更换电梯导靴，异响消除。")
    page.click("#comments button[type=submit]", navigates=True)
    act(page, "resolve", note="已更换导靴")
    act(page, "close")
    assert page.text("#status") == "已结案"
    assert "张调度" in page.text("#timeline")

    def visit_and_survey() -> bool:
        page.goto(f"{platform.base_url}/workbench/cases/{case['id']}")
        return page.count("#visit [data-visit]") == 1 and page.count("#survey [data-survey]") == 1

    wait_for(visit_and_survey, timeout=30)
    page.screenshot("workbench-case-closed-visit-survey")
    history = company.get(f"/api/v1/cases/{case['id']}").json()["history"]
    assert {h["actor"] for h in history[1:]} == {f"staff:{_person_id(platform, dispatcher)}/张调度"}

    other = invited(platform, second_company, "company_staff", "外公司员工")
    stranger = browser.page("other-company", javascript=False, viewport=LAPTOP)
    stranger.goto(f"{platform.base_url}/workbench")
    sign_in(stranger, sign_in_codes, other)
    assert stranger.count(f"tr[data-case='{case['id']}']") == 0
    assert stranger.goto(f"{platform.base_url}/workbench/cases/{case['id']}") == 404
    stranger.screenshot("workbench-other-company-404")


def _person_id(platform, phone: str) -> str:
    from sqlalchemy import select

    from services.gateway.models import Person

    with platform.store("gateway").read() as session:
        return session.scalar(select(Person.id).where(Person.phone == "+86" + phone))


def test_an_overdue_case_is_red_in_the_queue_and_a_waiting_one_says_its_clock_is_paused(
    platform, company, browser, sign_in_codes
):
    from datetime import timedelta

    from sqlalchemy import update

    from services.requests.models import Case

    clerk = invited(platform, company, "company_staff", "李师傅")
    late = company.case(company.estate_id, title="楼顶漏水无人响应")
    waiting = company.case(company.estate_id, title="约业主上门时间")
    for action, extra in (("accept", {}), ("assign", {"assignee": "李师傅"}), ("start", {}),
                          ("wait_resident", {"note": "业主出差"})):  # fmt: skip
        assert company.transition(waiting["id"], action, **extra).status_code == 200
    past = utcnow() - timedelta(hours=3)
    with platform.store("requests").transaction() as session:
        session.execute(update(Case).where(Case.id == late["id"]).values(response_due_at=past))

    page = browser.page("clerk", javascript=False, viewport=LAPTOP)
    page.goto(f"{platform.base_url}/workbench")
    sign_in(page, sign_in_codes, clerk)
    assert page.count(f"tr.late[data-case='{late['id']}'] .sla.late") == 1
    assert page.text(f"tr[data-case='{late['id']}'] .sla").startswith("响应已超时 3 小时")
    assert page.text(f"tr[data-case='{waiting['id']}'] .sla") == "计时暂停（等待业主）"
    page.screenshot("workbench-queue-overdue-red")
    page.goto(f"{platform.base_url}/workbench?overdue=true")
    assert page.count("tr[data-case]") == 1


def test_the_queue_and_a_case_fit_a_phone(platform, company, browser):
    from tests.support.people import sign_in as session_for

    clerk = invited(platform, company, "company_staff", "李师傅")
    case = company.case(company.estate_id, title="单元门禁坏了")
    page = browser.page("clerk-phone", javascript=False, viewport={"width": 390, "height": 844})
    page.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + clerk).token)  # signed in already
    assert page.goto(f"{platform.base_url}/workbench") == 200
    row = page.box(f"tr[data-case='{case['id']}']")
    assert row["x"] >= 0 and row["x"] + row["width"] <= 390
    page.screenshot("workbench-queue-phone")
    assert page.goto(f"{platform.base_url}/workbench/cases/{case['id']}") == 200
    button = page.box("form[data-action=accept] button")
    assert button["x"] + button["width"] <= 390 and button["height"] >= 40
    page.screenshot("workbench-case-phone")
