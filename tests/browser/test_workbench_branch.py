"""The party branch at the workbench in real Chromium (no JavaScript): a case of company A runs past
its response time and shows red in A's queue; the SLA timer escalates it (吹哨) on its own; the
community's supervisor, signed in by phone, finds it on the branch's view and sends an
instruction; A's staff read it on the case's page; B's staff get a 404 on the case. Screenshots,
laptop and phone (390×844), are kept in tests/browser/screenshots/branch-*.png."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.common.db import utcnow
from services.gateway import staff
from services.requests.models import Case
from tests.support.api import company_in
from tests.support.browser import sign_in
from tests.support.infra import wait_for
from tests.support.people import sign_in as session_for

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def invited(platform, name: str, role: str, tenant_id: str | None = None, community: str | None = None) -> str:
    """A phone invited as the settings page (or the operator, for a community) does."""
    phone = "137" + f"{uuid.uuid4().int % 10**8:08d}"
    with platform.store("gateway").transaction() as session:
        staff.invite(session, "+86" + phone, name, role, "test", utcnow(), tenant_id=tenant_id, community=community)
    return phone


def fits(page, selector: str, width: int) -> bool:
    box = page.box(selector)
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def test_an_overdue_case_goes_red_is_escalated_and_the_branch_instructs_the_company(platform, browser, sign_in_codes):
    tag = uuid.uuid4().hex[:6]
    community = f"红色物业社区{tag}"
    a = company_in(platform, community, f"缔华物业{tag}")
    b = company_in(platform, community, f"鑫苑物业{tag}")
    clerk_a = invited(platform, "李师傅", "company_staff", tenant_id=a.tenant_id)
    clerk_b = invited(platform, "外公司员工", "company_staff", tenant_id=b.tenant_id)
    chief = invited(platform, "赵书记", "supervisor", community=community)
    case = a.case(a.estate_id, title="5号楼地下室积水无人受理", household="5-1-101")
    past = utcnow() - timedelta(hours=3)
    with platform.store("requests").transaction() as session:  # the response clock ran out 3 hours ago
        session.execute(update(Case).where(Case.id == case["id"]).values(response_due_at=past))
    row = f"tr[data-case='{case['id']}']"

    # A's staff: the case is red in the queue.
    queue = browser.page("branch-clerk-a", javascript=False, viewport=LAPTOP)
    queue.goto(f"{platform.base_url}/workbench")
    sign_in(queue, sign_in_codes, clerk_a)
    assert queue.count(f"{row}.late .sla.late") == 1
    queue.screenshot("branch-1-company-queue-overdue-red")

    # The SLA timer (every 60 s) reports the breach and escalates: nobody presses anything.
    wait_for(lambda: a.get(f"/api/v1/cases/{case['id']}").json()["escalation_level"] >= 1, timeout=90)
    queue.goto(f"{platform.base_url}/workbench")
    assert queue.text(f"{row} .tag.whistle") == "吹哨"
    queue.screenshot("branch-2-company-queue-escalated")

    # The supervisor signs in with their phone and lands on the branch's view.
    view = browser.page("branch-chief", javascript=False, viewport=LAPTOP)
    view.goto(f"{platform.base_url}/workbench")
    sign_in(view, sign_in_codes, chief)
    assert view.url().endswith("/workbench/branch")
    assert view.text("h1") == f"{community} · 党支部督办"
    assert view.count(f"#escalations [data-case='{case['id']}']") == 1
    assert "超时未受理" in view.text(f"#escalations [data-case='{case['id']}']")
    assert view.count(f"#overdue li.late[data-case='{case['id']}'] .sla.late") == 1
    assert view.count(f"#companies tr[data-company='{a.tenant_id}']") == 1
    assert view.count(f"#companies tr[data-company='{b.tenant_id}']") == 1
    view.screenshot("branch-3-supervisor-view")

    view.click(f"#escalations [data-case='{case['id']}'] a", navigates=True)
    assert view.text("h1").startswith("5号楼地下室积水无人受理")
    assert view.text("#company") == f"缔华物业{tag}"
    view.fill("#instructions textarea[name=body]", "请今天18点前派人抽水并回复业主，明早报告处理结果。")
    view.click("#instructions button[type=submit]", navigates=True)
    assert view.text(".notice").startswith("督办意见已发送")
    assert "党支部 赵书记" in view.text("#comments")
    view.screenshot("branch-4-supervisor-case-instructed")

    # A's staff read the instruction on the case; B's staff cannot open it.
    queue.goto(f"{platform.base_url}/workbench/cases/{case['id']}")
    assert "党支部批示" in queue.text("#comments") and "请今天18点前派人抽水" in queue.text("#comments")
    queue.screenshot("branch-5-company-case-with-instruction")
    stranger = browser.page("branch-clerk-b", javascript=False, viewport=LAPTOP)
    stranger.goto(f"{platform.base_url}/workbench")
    sign_in(stranger, sign_in_codes, clerk_b)
    assert stranger.count(row) == 0
    assert stranger.goto(f"{platform.base_url}/workbench/cases/{case['id']}") == 404
    assert stranger.goto(f"{platform.base_url}/workbench/branch") == 403
    stranger.screenshot("branch-6-other-company-404")

    # The same on a phone: nothing runs off the side.
    phone = browser.page("branch-chief-phone", javascript=False, viewport=PHONE)
    phone.cookie(platform.base_url, "lx_session", session_for(platform, "+86" + chief).token)
    assert phone.goto(f"{platform.base_url}/workbench/branch") == 200
    for part in ("#companies table", f"#escalations [data-case='{case['id']}']", "#overdue li.late", ".totals"):
        assert fits(phone, part, PHONE["width"]), part
    phone.screenshot("branch-7-supervisor-view-phone")
    assert phone.goto(f"{platform.base_url}/workbench/branch/cases/{case['id']}") == 200
    assert fits(phone, "#instructions button", PHONE["width"]) and phone.box("#instructions button")["height"] >= 40
    phone.screenshot("branch-8-supervisor-case-phone")
