"""The workbench over HTTP: staff sign in as people (no key in a cookie), see only their company's
cases, filter the queue, work a case through the same RPCs as the API, and every rule of a form
holds: no CSRF token → 403 and nothing changed; a case that moved meanwhile → 409 and nothing
changed; another company's case → 404; bad input → 422 with what was typed and a message per
field. Staff never rate or vote on their own company's cases."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.common.db import utcnow
from services.gateway import staff
from services.gateway.authorization import Forbidden
from services.gateway.models import StaffMembership
from services.gateway.residents import OWN_COMPANY
from services.gateway.routes.workbench import STALE
from services.requests.models import Case, CaseChange
from tests.support.infra import wait_for
from tests.support.people import (
    Resident,
    Seams,
    anonymous,
    answer,
    clerk_of,
    confirm,
    open_proposal,
    phone,
    sign_in,
    survey_link,
    survey_of,
    tally,
)

pytestmark = pytest.mark.integration

COMMUNITY = "政通路社区"  # tests.conftest.new_company's


def status_of(platform, case_id: str) -> str:
    with platform.store("requests").read() as session:
        return session.get(Case, case_id).status


def rows(page: str) -> list[str]:
    return re.findall(r'data-case="([^"]+)"', page)


def seen(page: str) -> str:
    return re.search(r'name="seen" value="([^"]+)"', page).group(1)


# --- who may be at the workbench ----------------------------------------------------------


def test_not_signed_in_goes_to_sign_in_and_a_person_without_membership_gets_a_403_with_guidance(platform):
    answer_ = anonymous(platform, "/workbench")
    assert answer_.status_code == 303 and answer_.headers["Location"] == "/signin?next=/workbench"
    stranger = Resident(platform, phone())
    page = stranger.get("/workbench")
    assert page.status_code == 403
    assert "您还没有工作台权限" in page.text and "公司管理员" in page.text and "lianxin staff invite" in page.text


def test_the_queue_lists_only_my_company_s_cases_with_counts_and_sla_badges(platform, company, second_company):
    mine = company.case(company.estate_id, title="厨房漏水")
    theirs = second_company.case(second_company.estate_id, title="别家的案件")
    clerk = clerk_of(platform, company, name="李师傅")
    page = clerk.get("/workbench")
    assert page.status_code == 200, page.text
    assert mine["id"] in rows(page.text) and theirs["id"] not in rows(page.text)
    assert '<meta http-equiv="refresh" content="60">' in page.text and "<script" not in page.text
    assert 'style="' not in page.text and "<style" not in page.text
    assert "响应剩余" in page.text  # the running clock of a new case
    assert re.search(r'data-status="submitted">待受理 <b>\d+</b>', page.text)


def test_the_queue_filters_by_every_field_and_search(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    tag = uuid.uuid4().hex[:6]
    other_estate = company.post("/api/v1/estates", {"name": "天玺华府", "households": 10}).json()["id"]
    urgent = company.case(company.estate_id, title=f"电梯困人{tag}", priority="urgent", category="safety")
    elsewhere = company.case(other_estate, title=f"井盖松动{tag}")
    assigned = company.case(company.estate_id, title=f"路灯不亮{tag}")
    company.transition(assigned["id"], "accept")
    company.transition(assigned["id"], "assign", assignee=f"王师傅{tag}")
    late = company.case(company.estate_id, title=f"漏水超时{tag}")
    past = utcnow() - timedelta(hours=5)
    with platform.store("requests").transaction() as session:
        session.execute(update(Case).where(Case.id == late["id"])
                        .values(response_due_at=past, resolution_due_at=past, created_at=past - timedelta(days=3),
                                escalation_level=1))  # fmt: skip

    def found(**query) -> set[str]:
        page = clerk.get("/workbench", params={"q": tag} | query)
        assert page.status_code == 200, page.text
        return set(rows(page.text))

    assert found() == {urgent["id"], elsewhere["id"], assigned["id"], late["id"]}
    assert found(priority="urgent") == {urgent["id"]}
    assert found(category="safety") == {urgent["id"]}
    assert found(estate_id=other_estate) == {elsewhere["id"]}
    assert found(status="assigned") == found(assignee=f"王师傅{tag}") == {assigned["id"]}
    assert found(overdue="true") == found(escalated="true") == {late["id"]}
    assert late["id"] not in found(overdue="false")
    today = (utcnow() + timedelta(hours=8)).date().isoformat()  # Asia/Shanghai
    assert found(created_from=today) == {urgent["id"], elsewhere["id"], assigned["id"]}
    assert found(created_to=(utcnow() - timedelta(days=2)).date().isoformat()) == {late["id"]}
    page = clerk.get("/workbench", params={"q": tag, "overdue": "true"}).text
    assert 'class="late"' in page and "已超时" in page and "吹哨" in page
    bad = clerk.get("/workbench", params={"q": tag, "priority": "very", "created_from": "not-a-day"})
    assert bad.status_code == 422 and 'value="not-a-day"' in bad.text and 'data-field="priority"' in bad.text


def test_the_queue_pages_with_a_cursor(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    tag = uuid.uuid4().hex[:6]
    made = {company.case(company.estate_id, title=f"第{i}件{tag}")["id"] for i in range(27)}
    first = clerk.get("/workbench", params={"q": tag}).text
    more = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = clerk.get(more).text
    assert len(rows(first)) == 25 and len(rows(second)) == 2
    assert set(rows(first)) | set(rows(second)) == made and 'rel="next"' not in second


# --- one case -----------------------------------------------------------------------------


def test_a_case_page_shows_one_form_per_allowed_action_from_the_api_s_answer(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    case = company.case(company.estate_id)
    api = company.get(f"/api/v1/cases/{case['id']}").json()
    assert api["allowed_actions_detail"] == [
        {"action": "accept", "needs_note": False, "needs_assignee": False},
        {"action": "cancel", "needs_note": False, "needs_assignee": False},
    ]
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    assert re.findall(r'data-action="(\w+)"', page) == ["accept", "cancel"]
    company.transition(case["id"], "accept")
    company.transition(case["id"], "assign", assignee="王师傅")
    company.transition(case["id"], "start")
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    assert re.findall(r'data-action="(\w+)"', page) == ["reassign", "hand_back", "wait_resident", "resolve"]
    assert page.count("原因（必填）") == 3


def test_staff_work_a_case_and_every_change_is_recorded_with_the_person(platform, company):
    clerk = clerk_of(platform, company, name="张调度")
    case = company.case(company.estate_id)
    page = clerk.get(f"/workbench/cases/{case['id']}")
    done = clerk.post(f"/workbench/cases/{case['id']}/transitions", {"action": "accept", "seen": seen(page.text)})
    assert done.status_code == 303 and done.headers["Location"] == f"/workbench/cases/{case['id']}?done=accept"
    page = clerk.get(f"/workbench/cases/{case['id']}")
    assigned = clerk.post(
        f"/workbench/cases/{case['id']}/transitions",
        {"action": "assign", "assignee": "张调度", "assignee_kind": "staff", "seen": seen(page.text)},
    )
    assert assigned.status_code == 303
    note = clerk.post(f"/workbench/cases/{case['id']}/comments", {"body": "已联系业主", "visibility": "internal"})
    assert note.status_code == 303
    actor = f"staff:{clerk.member.person_id}/张调度"
    with platform.store("requests").read() as session:
        of_status = select(CaseChange).where(CaseChange.case_id == case["id"], CaseChange.field == "status")
        changes = session.scalars(of_status.order_by(CaseChange.id)).all()
    assert [(c.after, c.actor) for c in changes][1:] == [("accepted", actor), ("assigned", actor)]
    history = company.get(f"/api/v1/cases/{case['id']}").json()["history"]
    assert [(h["action"], h["actor"], h["source"]) for h in history][1:] == [
        ("accept", actor, "staff"), ("assign", actor, "staff")]  # fmt: skip
    comments = company.get(f"/api/v1/cases/{case['id']}/comments").json()["data"]
    assert [(c["author"], c["visibility"]) for c in comments] == [(actor, "internal")]
    shown = clerk.get(f"/workbench/cases/{case['id']}").text
    assert "内部备注" in shown and "张调度" in shown and actor not in shown


def test_a_form_without_its_csrf_token_is_403_and_changes_nothing(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    case = company.case(company.estate_id)
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    refused = clerk.post(f"/workbench/cases/{case['id']}/transitions", {"action": "accept", "seen": seen(page)},
                         csrf=False)  # fmt: skip
    assert refused.status_code == 403
    wrong = clerk.http.post(platform.base_url + f"/workbench/cases/{case['id']}/transitions",
                            data={"action": "accept", "csrf": "x" * 43}, allow_redirects=False)  # fmt: skip
    assert wrong.status_code == 403
    assert clerk.post(f"/workbench/cases/{case['id']}/comments", {"body": "hi"}, csrf=False).status_code == 403
    assert status_of(platform, case["id"]) == "submitted"
    assert company.get(f"/api/v1/cases/{case['id']}/comments").json()["data"] == []


def test_a_stale_form_says_the_case_moved_and_changes_nothing(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    case = company.case(company.estate_id)
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    company.transition(case["id"], "accept")  # someone else, meanwhile
    before = company.get(f"/api/v1/cases/{case['id']}").json()
    stale = clerk.post(f"/workbench/cases/{case['id']}/transitions", {"action": "cancel", "seen": seen(page)})
    assert stale.status_code == 409 and STALE in stale.text
    after = company.get(f"/api/v1/cases/{case['id']}").json()
    assert after["status"] == "accepted" and after["updated_at"] == before["updated_at"]
    assert re.findall(r'data-action="(\w+)"', stale.text) == ["assign", "cancel"]  # the fresh case's actions


def test_a_note_the_action_requires_is_asked_for_beside_the_field_and_what_was_typed_stays(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    case = company.case(company.estate_id)
    company.transition(case["id"], "accept")
    company.transition(case["id"], "assign", assignee="王师傅")
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    missing = clerk.post(f"/workbench/cases/{case['id']}/transitions",
                         {"action": "reassign", "assignee": "刘师傅", "seen": seen(page)})  # fmt: skip
    assert missing.status_code == 422
    assert 'data-field="note"' in missing.text and "需要说明原因" in missing.text and 'value="刘师傅"' in missing.text
    assert company.get(f"/api/v1/cases/{case['id']}").json()["assignee"] == "王师傅"
    empty = clerk.post(f"/workbench/cases/{case['id']}/comments", {"body": " "})
    assert empty.status_code == 422 and 'data-field="body"' in empty.text


def test_another_company_s_case_is_404_on_every_workbench_route_and_nothing_changes(platform, company, second_company):
    clerk = clerk_of(platform, company, name="李师傅")
    theirs = second_company.case(second_company.estate_id)
    base = f"/workbench/cases/{theirs['id']}"
    assert clerk.get(base).status_code == 404
    assert clerk.post(base + "/transitions", {"action": "accept"}).status_code == 404
    assert clerk.post(base + "/comments", {"body": "看看"}).status_code == 404
    assert clerk.get(base + "/photos/x").status_code == 404
    assert clerk.get("/workbench/cases/" + "x" * 100).status_code == 404
    assert status_of(platform, theirs["id"]) == "submitted"
    assert second_company.get(f"/api/v1/cases/{theirs['id']}/comments").json()["data"] == []


# --- people -------------------------------------------------------------------------------


def test_an_admin_invites_and_revokes_staff_and_staff_cannot(platform, company, second_company):
    admin = clerk_of(platform, company, "company_admin", "王经理")
    clerk = clerk_of(platform, company, name="李师傅")
    assert clerk.get("/workbench/settings/staff").status_code == 403
    assert clerk.post("/workbench/settings/staff", {"phone": phone(), "name": "x", "role": "company_staff"}
                      ).status_code == 403  # fmt: skip
    newcomer = phone()
    bad = admin.post("/workbench/settings/staff", {"phone": "123", "name": "赵师傅", "role": "supervisor"})
    assert bad.status_code == 422 and 'value="赵师傅"' in bad.text
    assert 'data-field="phone"' in bad.text and 'data-field="role"' in bad.text
    no_token = admin.post("/workbench/settings/staff", {"phone": newcomer, "name": "赵师傅", "role": "company_staff"},
                          csrf=False)  # fmt: skip
    assert no_token.status_code == 403
    invited = admin.post("/workbench/settings/staff", {"phone": newcomer, "name": "赵师傅", "role": "company_staff"})
    assert invited.status_code == 303
    with platform.store("gateway").read() as session:
        names = [m.name for m in staff.members(session, tenant_id=company.tenant_id)]
        mine = StaffMembership.tenant_id == company.tenant_id
        row = session.scalars(select(StaffMembership).where(StaffMembership.name == "赵师傅", mine)).one()
    assert names.count("赵师傅") == 1 and row.invited_by == admin.member.actor
    assert Resident(platform, newcomer).get("/workbench").status_code == 200
    again = admin.post("/workbench/settings/staff", {"phone": newcomer, "name": "赵师傅", "role": "company_staff"})
    assert again.status_code == 409
    other_admin = clerk_of(platform, second_company, "company_admin", "李师傅")
    assert other_admin.post(f"/workbench/settings/staff/{row.id}/revoke").status_code == 404
    assert admin.post(f"/workbench/settings/staff/{row.id}/revoke", csrf=False).status_code == 403
    assert Resident(platform, newcomer).get("/workbench").status_code == 200
    assert admin.post(f"/workbench/settings/staff/{row.id}/revoke").status_code == 303
    assert Resident(platform, newcomer).get("/workbench").status_code == 403


# --- staff never rate or vote on their own company's cases ----------------------------------


def test_staff_never_vote_on_their_own_company_s_proposals_even_as_confirmed_residents(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    confirm(platform, COMMUNITY, company.tenant_id, company.estate_id, ("7-1-701", clerk.phone))
    proposal = open_proposal(company)
    with pytest.raises(Forbidden) as refused:
        Seams(platform)._vote_as_resident(sign_in(platform, clerk.phone), company.tenant_id, proposal["id"], "support")
    assert refused.value.detail == OWN_COMPANY
    assert tally(company, proposal) == {"support": 0, "oppose": 0, "abstain": 0}
    with platform.store("gateway").transaction() as session:
        ended = update(StaffMembership).where(StaffMembership.id == clerk.member.id).values(revoked_at=utcnow())
        session.execute(ended)
    ballot = Seams(platform)._vote_as_resident(sign_in(platform, clerk.phone), company.tenant_id, proposal["id"],
                                               "support")  # fmt: skip
    assert ballot["household"] == "7-1-701"  # no longer staff: a resident like any other


def test_staff_never_rate_their_own_company_s_case_by_case_or_by_link(platform, company):
    clerk = clerk_of(platform, company, name="李师傅")
    confirm(platform, COMMUNITY, company.tenant_id, company.estate_id, ("7-2-701", clerk.phone))
    case = company.case(company.estate_id, phone=clerk.phone.removeprefix("+86"), household="7-2-701")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, clerk.phone), timeout=30)
    with pytest.raises(Forbidden):
        Seams(platform)._answer_for_case_as(sign_in(platform, clerk.phone), company.tenant_id, case["id"],
                                            {"score": 5}, "fp")  # fmt: skip
    page = answer(platform, link, 5, person=sign_in(platform, clerk.phone))
    assert page.status_code == 403 and "不能为本公司办理的事项评价" in page.text
    assert survey_of(platform, case["id"]).status == "issued"
    assert company.get(f"/api/v1/cases/{case['id']}").json()["rating"] is None


def test_the_resident_s_photos_show_on_the_case_page_for_my_company_only(platform, company, second_company):
    from tests.support.photos import png, upload

    clerk = clerk_of(platform, company, name="李师傅")
    stranger = clerk_of(platform, second_company, name="李师傅")
    case = company.case(company.estate_id)
    photo = upload(company, case["id"], ("leak.png", png(), "image/png")).json()["data"][0]
    page = clerk.get(f"/workbench/cases/{case['id']}").text
    assert f'src="/workbench/cases/{case["id"]}/photos/{photo["id"]}"' in page
    image = clerk.get(f"/workbench/cases/{case['id']}/photos/{photo['id']}")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.headers["Cache-Control"] == "private, no-store"
    assert stranger.get(f"/workbench/cases/{case['id']}/photos/{photo['id']}").status_code == 404


def test_a_supervisor_invites_the_community_s_supervisors_and_works_no_company_s_cases(platform, company):
    chief_phone = phone()
    with platform.store("gateway").transaction() as session:
        staff.invite(session, chief_phone, "赵书记", "supervisor", "operator", utcnow(), community=COMMUNITY)
    chief = Resident(platform, chief_phone)
    assert chief.get("/workbench").headers["Location"] == "/workbench/branch"  # the party branch's view
    case = company.case(company.estate_id)
    refused = chief.get(f"/workbench/cases/{case['id']}")
    assert refused.status_code == 403 and "督办人员" in refused.text
    assert chief.post(f"/workbench/cases/{case['id']}/transitions", {"action": "accept"}).status_code == 403
    assert status_of(platform, case["id"]) == "submitted"
    not_theirs = chief.post("/workbench/settings/staff", {"phone": phone(), "name": "员工", "role": "company_staff"})
    assert not_theirs.status_code == 422 and 'data-field="role"' in not_theirs.text
    deputy = phone()
    assert chief.post("/workbench/settings/staff", {"phone": deputy, "name": "钱委员", "role": "supervisor"}
                      ).status_code == 303  # fmt: skip
    with platform.store("gateway").read() as session:
        assert "钱委员" in [m.name for m in staff.members(session, community=COMMUNITY)]
        assert not staff.is_staff_of(session, deputy, company.tenant_id)


def test_staff_who_are_also_supervisors_work_their_company_and_manage_as_the_admin_they_are(platform, company):
    both = clerk_of(platform, company, name="李师傅")  # company staff (not admin) ...
    with platform.store("gateway").transaction() as session:  # ... and, later, a supervisor of the community
        staff.invite(session, both.phone, "李师傅", "supervisor", "operator", utcnow(), community=COMMUNITY)
    assert rows(both.get("/workbench").text) is not None and "督办人员可在" not in both.get("/workbench").text
    people = both.get("/workbench/settings/staff")
    assert people.status_code == 200 and 'value="supervisor"' in people.text and "company_staff" not in people.text
