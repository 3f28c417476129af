"""Every kind of page keeps its styles under the strict Content-Security-Policy (issue 18).

Real headless Chromium at phone size: the styles come from /static files (the body's
background is the pages' #f6f1ea, not the browser's white) and the console reports no
Content-Security-Policy violation. Screenshots go to tests/browser/screenshots/csp-*.png.
"""

from __future__ import annotations

import uuid

import pytest

from tests.support.browser import sign_in
from tests.support.infra import wait_for
from tests.support.people import survey_link

pytestmark = pytest.mark.browser

PAGE_BACKGROUND = "rgb(246, 241, 234)"  # #f6f1ea, from the page's style sheet
WORKBENCH_BACKGROUND = "rgb(245, 245, 244)"  # #f5f5f4, from workbench.css


def shows_styled(page, name: str) -> None:
    assert page.style("body", "background-color") == PAGE_BACKGROUND, name
    assert [line for line in page.console() if "Content Security Policy" in line] == [], name
    assert page.screenshot(f"csp-{name}").stat().st_size > 5_000


def test_the_public_pages_keep_their_styles_under_the_policy(platform, browser, company):
    case = company.case(company.estate_id, phone="13912348101", household="9-1-301", title="楼道灯不亮")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912348101"))
    base = platform.base_url
    for name, path in (
        ("board", f"/p/estates/{company.estate_id}/board"),
        ("calendar", f"/p/estates/{company.estate_id}/calendar"),
        ("league", "/p/communities/政通路社区/league"),
        ("survey", link.removeprefix(base)),
        ("signin", "/signin"),
        ("estate", f"/e/{company.estate_id}"),
    ):
        page = browser.page(f"csp-{name}")
        assert page.goto(base + path) == 200, name
        shows_styled(page, name)
    docs = browser.page("csp-docs")
    assert docs.goto(base + "/docs") == 200
    assert docs.style(".op", "border-left-color") == "rgb(198, 40, 40)"  # #c62828, from docs.css
    assert [line for line in docs.console() if "Content Security Policy" in line] == []


def test_the_party_branch_s_view_keeps_its_styles_under_the_policy(platform, browser, sign_in_codes):
    """The dashboard is the supervisor's view at the workbench now, signed in by phone."""
    from services.common.db import utcnow
    from services.gateway import staff

    phone = "139" + str(uuid.uuid4().int)[:8]
    with platform.store("gateway").transaction() as session:
        staff.invite(session, "+86" + phone, "赵书记", "supervisor", "test", utcnow(), community="政通路社区")
    page = browser.page("csp-branch")
    assert page.goto(platform.base_url + "/workbench/branch") == 200  # the sign-in page, after the redirect
    shows_styled(page, "signin-branch")
    sign_in(page, sign_in_codes, phone)
    assert page.url().endswith("/workbench/branch")
    assert page.style("body", "background-color") == WORKBENCH_BACKGROUND
    assert [line for line in page.console() if "Content Security Policy" in line] == []
    assert page.style(".legend .key.closed", "background-color") == "rgb(198, 40, 40)"  # was a style attribute
    assert page.screenshot("csp-branch").stat().st_size > 5_000
