"""The party branch's view at the workbench over HTTP: a supervisor signed in by phone sees every
company of their own community (another community's case is a 404), acts only by instructions
and household decisions (every other form is a 403, nothing changed), each recorded as
``supervisor:<person id>/<name>``; company staff get a 403 here; every form needs the CSRF token;
and the old key-cookie dashboard is gone (``/p/dashboard`` → 303 to the view)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.common.db import utcnow
from services.gateway import staff
from services.gateway.models import HouseholdMember
from services.gateway.tenants import KEY_PREFIX
from services.requests import breaches
from services.requests.models import Case
from tests.support.api import company_in
from tests.support.people import Resident, anonymous, claim, phone

pytestmark = pytest.mark.integration


class World:
    """A community of its own: two companies, a supervisor, and a company in another community."""

    def __init__(self, platform) -> None:
        tag = uuid.uuid4().hex[:6]
        self.platform = platform
        self.community = f"督办社区{tag}"
        self.a = company_in(platform, self.community, f"甲物业{tag}")
        self.b = company_in(platform, self.community, f"乙物业{tag}")
        self.elsewhere = company_in(platform, f"别的社区{tag}", f"丙物业{tag}")
        self.chief = self.member(self.community, "赵书记", "supervisor")
        self.clerk_a = self.member(self.a.tenant_id, "李师傅", "company_staff")
        self.clerk_b = self.member(self.b.tenant_id, "王师傅", "company_staff")

    def member(self, where: str, name: str, role: str) -> Resident:
        """A signed-in browser of a person with ``role`` in the company (tenant id) or community."""
        who = phone()
        place = {"community": where} if role == "supervisor" else {"tenant_id": where}
        with self.platform.store("gateway").transaction() as session:
            membership = staff.invite(session, who, name, role, "test", utcnow(), **place)
        browser = Resident(self.platform, who)
        browser.member = membership
        return browser

    def overdue(self, api, title: str, escalate: bool = False) -> dict:
        """A case whose response clock ran out 3 hours ago; escalated by the SLA timer's own claim."""
        case = api.case(api.estate_id, title=title)
        past = utcnow() - timedelta(hours=3)
        with self.platform.store("requests").transaction() as session:
            session.execute(update(Case).where(Case.id == case["id"]).values(response_due_at=past))
        if escalate:
            with self.platform.store("requests").transaction() as session:
                assert breaches.claim(session, lambda *event: None, case["id"], "response", utcnow())
        return case


@pytest.fixture
def world(platform):
    return World(platform)


def cases_in(page: str, section: str) -> list[str]:
    part = re.search(rf'<section class="panel" id="{section}">(.*?)</section>', page, re.S).group(1)
    return re.findall(r'data-case="([^"]+)"', part)


def comments(api, case_id: str) -> list[dict]:
    return api.get(f"/api/v1/cases/{case_id}/comments").json()["data"]


# --- what the supervisor sees --------------------------------------------------------------


def test_the_view_shows_every_company_of_the_community_with_escalations_and_overdue_cases(world):
    whistled = world.overdue(world.a, "电梯困人无人响应", escalate=True)
    late = world.overdue(world.b, "楼道灯不亮")
    fresh = world.a.case(world.a.estate_id, title="新报的案件")
    theirs = world.overdue(world.elsewhere, "别的社区的超时案件", escalate=True)

    # The running SLA timer (every 60 s) may escalate the late case too; the view must then list it
    # first (the newest escalation), so the expectation follows the record, read on both sides of
    # the page (the timer escalates a case once: a second read is never needed twice).
    def late_escalated() -> bool:
        with world.platform.store("requests").read() as session:
            return session.get(Case, late["id"]).escalation_level > 0

    for _ in range(2):
        before = late_escalated()
        page = world.chief.get("/workbench/branch")
        timer_got_there = late_escalated()
        if before == timer_got_there:
            break
    assert before == timer_got_there
    assert page.status_code == 200, page.text
    assert "<script" not in page.text and 'style="' not in page.text and "<style" not in page.text
    assert set(re.findall(r'data-company="([^"]+)"', page.text)) == {world.a.tenant_id, world.b.tenant_id}
    escalated = [late["id"], whistled["id"]] if timer_got_there else [whistled["id"]]
    assert cases_in(page.text, "escalations") == escalated
    assert set(cases_in(page.text, "overdue")) == {whistled["id"], late["id"]}
    assert fresh["id"] not in page.text and theirs["id"] not in page.text
    assert re.search(r'<strong id="open">3</strong>', page.text)
    assert re.search(rf'id="escalated">{len(escalated)}<', page.text)
    assert "吹哨已 " in page.text and "超时未受理" in page.text
    assert "13912345678" not in page.text and "139****5678" not in page.text  # no reporter's phone
    assert world.chief.get("/workbench").headers["Location"] == "/workbench/branch"


def test_escalations_are_listed_newest_first_and_a_resolved_one_leaves_the_list(world):
    first = world.overdue(world.a, "先吹哨的", escalate=True)
    second = world.overdue(world.b, "后吹哨的", escalate=True)
    done = world.overdue(world.a, "已办结的", escalate=True)
    for action, extra in (("accept", {}), ("assign", {"assignee": "李师傅"}), ("start", {}), ("resolve", {})):
        assert world.a.transition(done["id"], action, **extra).status_code == 200
    page = world.chief.get("/workbench/branch").text
    assert cases_in(page, "escalations") == [second["id"], first["id"]]


def test_the_case_page_is_read_only_with_history_replies_and_notes_but_no_reporter(world):
    case = world.overdue(world.a, "水管爆裂", escalate=True)
    world.a.post(f"/api/v1/cases/{case['id']}/comments", {"body": "已派人前往", "visibility": "public"})
    world.a.post(f"/api/v1/cases/{case['id']}/comments", {"body": "备件缺货，内部协调", "visibility": "internal"})
    page = world.chief.get(f"/workbench/branch/cases/{case['id']}")
    assert page.status_code == 200, page.text
    assert "已派人前往" in page.text and "备件缺货" in page.text and "内部备注" in page.text
    assert "超时未受理" in page.text and 'id="timeline"' in page.text
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == [
        "/signout", f"/workbench/branch/cases/{case['id']}/instructions"]  # fmt: skip
    assert "13912345678" not in page.text and "139****5678" not in page.text


def test_another_community_s_case_is_404_for_the_supervisor_and_nothing_changes(world):
    theirs = world.elsewhere.case(world.elsewhere.estate_id, title="别的社区的案件")
    assert world.chief.get(f"/workbench/branch/cases/{theirs['id']}").status_code == 404
    sent = world.chief.post(f"/workbench/branch/cases/{theirs['id']}/instructions", {"body": "请处理"})
    assert sent.status_code == 404
    assert world.chief.get("/workbench/branch/cases/" + "x" * 100).status_code == 404
    assert comments(world.elsewhere, theirs["id"]) == []


# --- what the supervisor does: instructions ------------------------------------------------


def test_an_instruction_reaches_the_company_s_case_page_recorded_with_the_person(world):
    case = world.overdue(world.a, "化粪池外溢", escalate=True)
    sent = world.chief.post(f"/workbench/branch/cases/{case['id']}/instructions", {"body": "请今天内处理并回复业主"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/workbench/branch/cases/{case['id']}?done=instruction#instructions"
    actor = f"supervisor:{world.chief.member.person_id}/赵书记"
    assert [(c["kind"], c["author"], c["body"]) for c in comments(world.a, case["id"])] == [
        ("instruction", actor, "请今天内处理并回复业主")]  # fmt: skip
    shown = world.clerk_a.get(f"/workbench/cases/{case['id']}").text
    assert "党支部批示" in shown and "请今天内处理并回复业主" in shown and "党支部 赵书记" in shown
    assert world.clerk_b.get(f"/workbench/cases/{case['id']}").status_code == 404


def test_an_empty_instruction_is_asked_for_beside_the_field_and_nothing_is_sent(world):
    case = world.a.case(world.a.estate_id)
    empty = world.chief.post(f"/workbench/branch/cases/{case['id']}/instructions", {"body": "  "})
    assert empty.status_code == 422 and 'data-field="body"' in empty.text
    long = world.chief.post(f"/workbench/branch/cases/{case['id']}/instructions", {"body": "很长" * 1001})
    assert long.status_code == 422 and 'data-field="body"' in long.text and "很长很长" in long.text
    assert comments(world.a, case["id"]) == []


def test_every_branch_form_without_its_csrf_token_is_403_and_changes_nothing(world):
    case = world.a.case(world.a.estate_id)
    pending = claim(world.platform, world.community, world.a.tenant_id, world.a.estate_id, "1-1-101", phone())
    assert world.chief.post(f"/workbench/branch/cases/{case['id']}/instructions", {"body": "请处理"},
                            csrf=False).status_code == 403  # fmt: skip
    wrong = world.chief.post(f"/workbench/branch/claims/{pending['id']}/confirm", {"csrf": "x" * 43}, csrf=False)
    assert wrong.status_code == 403
    assert world.chief.post(f"/workbench/branch/claims/{pending['id']}/reject", csrf=False).status_code == 403
    assert comments(world.a, case["id"]) == []
    assert status_of_claim(world.platform, pending["id"]) == "pending"


# --- what the supervisor may not do, and who may not be here --------------------------------


def test_a_supervisor_changes_nothing_but_instructions_and_claims(world):
    case = world.a.case(world.a.estate_id)
    base = f"/workbench/cases/{case['id']}"
    assert world.chief.post(base + "/transitions", {"action": "accept"}).status_code == 403
    assert world.chief.post(base + "/comments", {"body": "我来回复", "visibility": "public"}).status_code == 403
    assert world.chief.get(base).status_code == 403
    after = world.a.get(f"/api/v1/cases/{case['id']}").json()
    assert after["status"] == "submitted" and after["updated_at"] == case["updated_at"]
    assert comments(world.a, case["id"]) == []


def test_company_staff_get_403_on_the_branch_view_and_its_forms(world):
    case = world.a.case(world.a.estate_id)
    pending = claim(world.platform, world.community, world.a.tenant_id, world.a.estate_id, "2-1-201", phone())
    admin = world.member(world.a.tenant_id, "王经理", "company_admin")
    for clerk in (world.clerk_a, admin):
        assert clerk.get("/workbench/branch").status_code == 403
        assert clerk.get(f"/workbench/branch/cases/{case['id']}").status_code == 403
        assert clerk.post(f"/workbench/branch/cases/{case['id']}/instructions", {"body": "x"}).status_code == 403
        assert clerk.post(f"/workbench/branch/claims/{pending['id']}/confirm").status_code == 403
    assert comments(world.a, case["id"]) == []
    assert status_of_claim(world.platform, pending["id"]) == "pending"
    assert anonymous(world.platform, "/workbench/branch").headers["Location"] == "/signin?next=/workbench/branch"


# --- household claims ------------------------------------------------------------------------


def status_of_claim(platform, claim_id: str) -> str:
    with platform.store("gateway").read() as session:
        return session.get(HouseholdMember, claim_id).status


def test_the_supervisor_confirms_and_rejects_claims_of_the_community_only(world):
    yes = claim(world.platform, world.community, world.a.tenant_id, world.a.estate_id, "3-1-301", phone())
    no = claim(world.platform, world.community, world.b.tenant_id, world.b.estate_id, "4-1-401", phone())
    theirs = claim(world.platform, "别的社区", world.elsewhere.tenant_id, world.elsewhere.estate_id, "5-1-501", phone())
    page = world.chief.get("/workbench/branch").text
    assert f'data-claim="{yes["id"]}"' in page and f'data-claim="{no["id"]}"' in page
    assert f'data-claim="{theirs["id"]}"' not in page and yes["phone"] not in page  # masked
    confirmed = world.chief.post(f"/workbench/branch/claims/{yes['id']}/confirm")
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/workbench/branch?done=confirmed#claims"
    assert world.chief.post(f"/workbench/branch/claims/{no['id']}/reject").status_code == 303
    with world.platform.store("gateway").read() as session:
        decided = session.get(HouseholdMember, yes["id"])
        assert (decided.status, decided.decided_by) == ("confirmed", world.chief.member.actor)
        assert world.chief.member.actor.startswith("supervisor:")
    assert status_of_claim(world.platform, no["id"]) == "rejected"
    again = world.chief.post(f"/workbench/branch/claims/{yes['id']}/reject")
    assert again.status_code == 409 and "已有结果" in again.text
    assert status_of_claim(world.platform, yes["id"]) == "confirmed"
    assert world.chief.post(f"/workbench/branch/claims/{theirs['id']}/confirm").status_code == 404
    assert status_of_claim(world.platform, theirs["id"]) == "pending"
    assert f'data-claim="{yes["id"]}"' not in world.chief.get("/workbench/branch").text


# --- the old dashboard ---------------------------------------------------------------------


def test_the_old_dashboard_redirects_to_the_view_and_takes_no_key(platform, world):
    old = anonymous(platform, "/p/dashboard")
    assert (old.status_code, old.headers["Location"]) == (303, "/workbench/branch")
    assert "Set-Cookie" not in old.headers
    assert anonymous(platform, "/p/login").status_code == 404
    assert anonymous(platform, "/p/login", method="post", data={"key": KEY_PREFIX + "x"}).status_code in (404, 405)


def test_the_case_list_s_open_filter_is_the_requests_service_s_word_for_still_being_handled(world):
    """The filter the branch's escalation list uses, as the API offers it to every key."""
    waiting = world.a.case(world.a.estate_id)
    cancelled = world.a.case(world.a.estate_id)
    assert world.a.transition(cancelled["id"], "cancel").status_code == 200
    closed = world.a.case(world.a.estate_id)
    world.a.close(closed["id"])

    def listed(value: str) -> set[str]:
        found = world.a.get("/api/v1/cases", params={"open": value, "limit": 100}).json()["data"]
        return {c["id"] for c in found} & {waiting["id"], cancelled["id"], closed["id"]}

    assert listed("true") == {waiting["id"]}
    assert listed("false") == {cancelled["id"], closed["id"]}
    assert world.a.get("/api/v1/cases", params={"open": "maybe"}).status_code == 422


# --- one person, two memberships -----------------------------------------------------------


def switch_offers(page: str) -> list[tuple[str, str]]:
    """The header's switcher: (membership id, " selected" or "") per option."""
    form = re.search(r'<form method="post" action="/workbench/switch"(.*?)</form>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]+)"( selected)?>', form)


def test_a_clerk_who_is_also_the_branch_s_supervisor_switches_between_them_and_only_to_their_own(world):
    who = phone()
    with world.platform.store("gateway").transaction() as session:
        clerk = staff.invite(session, who, "钱师傅", "company_staff", "test", utcnow(), tenant_id=world.a.tenant_id)
        chief = staff.invite(session, who, "钱书记", "supervisor", "test", utcnow(), community=world.community)
    both = Resident(world.platform, who)

    queue = both.get("/workbench")  # a company's membership first, and the switcher offers the other
    assert queue.status_code == 200, queue.text
    assert switch_offers(queue.text) == [(clerk.id, " selected"), (chief.id, "")]

    switched = both.post("/workbench/switch", {"membership": chief.id})
    assert (switched.status_code, switched.headers["Location"]) == (303, "/workbench/branch")
    assert both.http.cookies.get("lx_acting") == chief.id
    assert both.get("/workbench").headers["Location"] == "/workbench/branch"
    branch = both.get("/workbench/branch")
    assert switch_offers(branch.text) == [(chief.id, " selected"), (clerk.id, "")]

    # Someone else's membership, or a made-up one: a 404 page, the choice unchanged.
    for other in (world.clerk_b.member.id, "m" * 26):
        refused = both.post("/workbench/switch", {"membership": other})
        assert refused.status_code == 404 and "lx_acting" not in refused.headers.get("Set-Cookie", "")
    assert both.http.cookies.get("lx_acting") == chief.id

    # A cookie naming a membership the person lost is ignored: they act as what they still are.
    with world.platform.store("gateway").transaction() as session:
        staff.revoke(session, world.chief.member, chief.id, utcnow())
    assert both.get("/workbench").status_code == 200
    assert both.get("/workbench/branch").status_code == 403
    assert 'action="/workbench/switch"' not in both.get("/workbench").text  # nothing left to switch to
