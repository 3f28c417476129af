"""The record of changes at the workbench: every accepted form, with the person who submitted it.

A company admin reads the company's record at /workbench/settings/actions (操作记录), a supervisor
the community's; a refused form (403, 404, 422, a missing CSRF token) and a switch of membership
are not changes and leave no record; another company never sees the record.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from services.gateway.models import WorkbenchAction
from tests.support.api import company_in
from tests.support.people import clerk_of, staff_browser

pytestmark = pytest.mark.integration


def recorded(platform, tenant_id: str | None, community: str | None = None) -> list[tuple[str, str, str, int]]:
    """(actor, route, path, status) of the record, oldest first."""
    query = select(WorkbenchAction).order_by(WorkbenchAction.at, WorkbenchAction.id)
    if tenant_id:
        query = query.where(WorkbenchAction.tenant_id == tenant_id)
    else:
        query = query.where(WorkbenchAction.tenant_id.is_(None), WorkbenchAction.community == community)
    with platform.store("gateway").read() as session:
        return [(row.actor, row.route, row.path, row.status) for row in session.scalars(query)]


def test_accepted_forms_are_recorded_with_the_person_and_refused_ones_are_not(platform):
    company = company_in(platform, "记录社区", "记录物业")
    other = company_in(platform, "记录社区", "别家物业")
    admin = clerk_of(platform, company, "company_admin", "王经理")
    clerk = clerk_of(platform, company, name="李师傅")
    stranger = clerk_of(platform, other, "company_admin", "赵经理")
    case = company.case(company.estate_id, title="楼道灯不亮")

    comment = clerk.post(f"/workbench/cases/{case['id']}/comments", {"body": "已安排电工", "visibility": "public"})
    assert comment.status_code == 303
    number = f"139{uuid.uuid4().int % 10**8:08d}"
    form = {"name": "周阿姨", "phone": number, "skills": "visit", "estate_ids": company.estate_id}
    volunteer = clerk.post("/workbench/volunteers", form)
    assert volunteer.status_code == 303, volunteer.text
    quiet = admin.post("/workbench/settings/notifications", {"quiet_start": "22:00", "quiet_end": "07:00"})
    assert quiet.status_code == 303, quiet.text

    # Refused: staff at an admin's form (403), bad input (422), no token (403), another company's case (404).
    assert clerk.post("/workbench/settings/notifications", {"quiet_start": "23:00"}).status_code == 403
    comments = f"/workbench/cases/{case['id']}/comments"
    assert clerk.post(comments, {"body": "", "visibility": "public"}).status_code == 422
    assert clerk.post(comments, {"body": "伪造"}, csrf=False).status_code == 403
    assert stranger.post(comments, {"body": "越权"}).status_code == 404

    admin_actor, clerk_actor = admin.member.actor, clerk.member.actor
    assert recorded(platform, company.tenant_id) == [
        (clerk_actor, "/workbench/cases/<string:case_id>/comments", f"/workbench/cases/{case['id']}/comments", 303),
        (clerk_actor, "/workbench/volunteers", "/workbench/volunteers", 303),
        (admin_actor, "/workbench/settings/notifications", "/workbench/settings/notifications", 303),
    ]
    assert recorded(platform, other.tenant_id) == []

    page = admin.get("/workbench/settings/actions")
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-what="([^"]+)"><td>[^<]+</td><td>([^<]+)</td>', page.text)
    assert rows == [("修改通知设置", "王经理"), ("登记志愿者", "李师傅"), ("回复或备注案件", "李师傅")]  # newest first
    assert clerk.get("/workbench/settings/actions").status_code == 403  # staff: admins only
    assert "data-what" not in stranger.get("/workbench/settings/actions").text  # another company: nothing of ours


def test_a_supervisor_s_instruction_is_recorded_for_the_community_and_a_switch_is_not_a_change(platform):
    company = company_in(platform, "督办记录社区", "督办记录物业")
    case = company.case(company.estate_id, title="电梯异响")
    chief = staff_browser(platform, None, "supervisor", community="督办记录社区")
    said = chief.post(
        f"{platform.base_url}/workbench/branch/cases/{case['id']}/instructions",
        data={"body": "请两日内答复业主", "csrf": chief.csrf}, allow_redirects=False,
    )  # fmt: skip
    assert said.status_code == 303, said.text
    switched = chief.post(
        f"{platform.base_url}/workbench/switch", data={"membership": chief.member.id, "csrf": chief.csrf},
        allow_redirects=False,
    )  # fmt: skip
    assert switched.status_code == 303
    route = "/workbench/branch/cases/<string:case_id>/instructions"
    path = f"/workbench/branch/cases/{case['id']}/instructions"
    assert recorded(platform, None, "督办记录社区") == [(chief.member.actor, route, path, 303)]
    assert recorded(platform, company.tenant_id) == []
    page = chief.get(f"{platform.base_url}/workbench/settings/actions", allow_redirects=False)
    assert page.status_code == 200 and 'data-what="督办批示"' in page.text
