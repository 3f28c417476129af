"""Incidents and broadcasts at the workbench over HTTP: staff declare an outage, post an update,
merge duplicate cases, resolve it and see the broadcast's reach; compose a notice to an estate or
a building and watch its progress. Every rule of a form holds: no CSRF token → 403 and nothing
changed; another company's incident or broadcast → 404; a supervisor → 403; bad input → 422 with
what was typed and a message per field; an incident resolved meanwhile → 409, nothing changed."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from services.common.db import utcnow
from services.gateway import staff
from services.gateway.routes.workbench_incidents import RESOLVED
from services.notifications.models import Broadcast
from services.requests.models import Case, Incident
from tests.support.infra import wait_for
from tests.support.people import Resident, anonymous, clerk_of, phone

pytestmark = pytest.mark.integration

OUTAGE = {"kind": "water_outage", "title": "3号楼、5号楼停水", "description": "主管道爆裂，正在抢修，送水车在3号楼门口",
          "severity": "critical", "expected_end": "2099-12-03T18:00"}  # fmt: skip


def households(company, estate_id: str, n: int, building: str = "3") -> None:
    """``n`` households of the estate in the company's contacts (one resident each)."""
    tag = uuid.uuid4().int % 10**6
    contacts = [{"phone": f"136{tag:06d}{i:02d}", "name": f"住户{i}", "estate_id": estate_id,
                 "household": f"{building}-1-{100 + i}"} for i in range(n)]  # fmt: skip
    assert company.post("/api/v1/contact-imports", {"contacts": contacts}).status_code == 200


def declare(clerk, company, **fields) -> str:
    answer = clerk.post("/workbench/incidents", {"estate_id": company.estate_id} | OUTAGE | fields)
    assert answer.status_code == 303, answer.text
    return re.search(r"/workbench/incidents/([^?]+)\?done=declared", answer.headers["Location"]).group(1)


def incident_row(platform, incident_id: str) -> Incident | None:
    with platform.store("requests").read() as session:
        found = session.get(Incident, incident_id)
        if found is not None:
            session.expunge(found)
        return found


def statuses(platform, case_ids: list[str]) -> list[str]:
    with platform.store("requests").read() as session:
        return [session.get(Case, case_id).status for case_id in case_ids]


def broadcasts_of(platform, tenant: str) -> int:
    with platform.store("notifications").read() as session:
        return session.scalar(select(func.count()).select_from(Broadcast).where(Broadcast.tenant == tenant))


# --- incidents ------------------------------------------------------------------------------------


def test_a_dispatcher_declares_merges_updates_and_resolves_an_outage_and_sees_the_broadcast_reach(platform, company):
    households(company, company.estate_id, 6)
    clerk = clerk_of(platform, company)
    form = clerk.get("/workbench/incidents/new")
    assert form.status_code == 200 and 'name="csrf"' in form.text and "<script" not in form.text
    incident_id = declare(clerk, company)
    declared = company.get(f"/api/v1/incidents/{incident_id}").json()
    assert (declared["title"], declared["severity"], declared["status"]) == (OUTAGE["title"], "critical", "declared")
    assert declared["expected_end"] == "2099-12-03T10:00:00.000000Z"  # typed as Asia/Shanghai
    assert declared["declared_by"] == clerk.member.actor

    duplicates = [company.case(company.estate_id, phone=f"1391235{n:04d}", household=f"3-2-{n}01", title="家里没水")
                  for n in (1, 2)]  # fmt: skip
    ids = [c["id"] for c in duplicates]
    page = clerk.get(f"/workbench/incidents/{incident_id}")
    assert page.status_code == 200, page.text
    for case_id in ids:  # offered to tick: open cases of the estate
        assert f'name="case_ids" value="{case_id}"' in page.text

    merged = clerk.post(f"/workbench/incidents/{incident_id}/cases", {"case_ids": ids[0], "more_case_ids": ids[1]})
    assert merged.status_code == 303, merged.text
    assert statuses(platform, ids) == ["merged", "merged"]
    update = clerk.post(f"/workbench/incidents/{incident_id}/updates", {"body": "送水车已到5号楼", "expected_end": ""})
    assert update.status_code == 303, update.text
    resolved = clerk.post(f"/workbench/incidents/{incident_id}/resolve", {"resolution": "管道已修复，恢复供水"})
    assert resolved.status_code == 303, resolved.text
    assert statuses(platform, ids) == ["closed", "closed"]
    history = company.get(f"/api/v1/cases/{ids[0]}").json()["history"]
    assert {h["actor"] for h in history[-3:]} == {clerk.member.actor}

    def reach() -> str | None:
        shown = clerk.get(f"/workbench/incidents/{incident_id}").text
        rows = re.findall(r'<tr data-broadcast="[^"]+" data-status="done">', shown)
        return shown if len(rows) == 3 else None  # declared, updated, resolved: each sent to every household

    shown = wait_for(reach, timeout=30)
    assert shown.count('<td class="num" data-count="total">6</td>') == 3
    assert shown.count('data-count="sent">6</td>') == 3
    assert "送水车已到5号楼" in shown and "管道已修复，恢复供水" in shown and "已解除" in shown
    listing = clerk.get("/workbench/incidents?status=resolved").text
    assert f'data-incident="{incident_id}"' in listing and 'data-merged="2"' in listing


def test_resolving_an_incident_resolved_meanwhile_says_so_and_changes_nothing(platform, company):
    clerk = clerk_of(platform, company)
    incident_id = declare(clerk, company)
    first = clerk.post(f"/workbench/incidents/{incident_id}/resolve", {"resolution": "已恢复供水"})
    assert first.status_code == 303
    again = clerk.post(f"/workbench/incidents/{incident_id}/resolve", {"resolution": "第二次解除"})
    assert again.status_code == 409 and RESOLVED in again.text
    assert incident_row(platform, incident_id).resolution == "已恢复供水"
    late_update = clerk.post(f"/workbench/incidents/{incident_id}/updates", {"body": "送水车已到"})
    assert late_update.status_code == 409 and RESOLVED in late_update.text
    assert incident_row(platform, incident_id).updates == []


def test_bad_input_is_a_422_with_what_was_typed_and_a_message_per_field_and_nothing_declared(platform, company):
    clerk = clerk_of(platform, company)
    before = company.get("/api/v1/incidents", params={"limit": 100}).json()["data"]
    answer = clerk.post("/workbench/incidents", {"estate_id": "", "kind": "water_outage", "title": "停水了",
                                                 "description": "   ", "expected_end": "2001-01-01T08:00"})  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert 'value="停水了"' in answer.text
    for field in ("estate_id", "description"):
        assert f'data-field="{field}"' in answer.text
    assert "不能为空" in answer.text
    assert company.get("/api/v1/incidents", params={"limit": 100}).json()["data"] == before

    incident_id = declare(clerk, company)
    merge = clerk.post(f"/workbench/incidents/{incident_id}/cases", {"more_case_ids": "没有这个案件"})
    assert merge.status_code == 422 and 'data-field="case_ids"' in merge.text and 'value="没有这个案件"' in merge.text
    nothing = clerk.post(f"/workbench/incidents/{incident_id}/cases", {})
    assert nothing.status_code == 422 and "请至少选择或填写一项" in nothing.text
    empty = clerk.post(f"/workbench/incidents/{incident_id}/resolve", {"resolution": " "})
    assert empty.status_code == 422 and 'data-field="resolution"' in empty.text
    assert incident_row(platform, incident_id).status == "declared"


def test_a_case_of_another_company_cannot_be_merged_and_its_incident_is_a_404(platform, company, second_company):
    clerk = clerk_of(platform, company)
    theirs_case = second_company.case(second_company.estate_id, title="别家的停水")
    incident_id = declare(clerk, company)
    merge = clerk.post(f"/workbench/incidents/{incident_id}/cases", {"more_case_ids": theirs_case["id"]})
    assert merge.status_code == 422
    assert statuses(platform, [theirs_case["id"]]) == ["submitted"]

    theirs = second_company.post("/api/v1/incidents", {"estate_id": second_company.estate_id, "kind": "power_outage",
                                                       "title": "停电", "description": "抢修中"}).json()  # fmt: skip
    for path in ("", "/updates", "/cases", "/resolve"):
        method = clerk.get if not path else clerk.post
        data = {} if not path else {"body": "x", "resolution": "x", "more_case_ids": theirs_case["id"]}
        answer = method(f"/workbench/incidents/{theirs['id']}{path}", **({"data": data} if path else {}))
        assert answer.status_code == 404, (path, answer.status_code)
    assert incident_row(platform, theirs["id"]).status == "declared"
    assert f'data-incident="{theirs["id"]}"' not in clerk.get("/workbench/incidents").text


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(platform, company):
    clerk = clerk_of(platform, company)
    refused = clerk.post("/workbench/incidents", {"estate_id": company.estate_id} | OUTAGE, csrf=False)
    assert refused.status_code == 403
    incident_id = declare(clerk, company)
    case = company.case(company.estate_id, title="没水")
    for path, data in (("/updates", {"body": "进展"}), ("/cases", {"case_ids": case["id"]}),
                       ("/resolve", {"resolution": "好了"})):  # fmt: skip
        wrong = clerk.post(f"/workbench/incidents/{incident_id}{path}", data | {"csrf": "wrong"}, csrf=False)
        assert wrong.status_code == 403, path
    row = incident_row(platform, incident_id)
    assert (row.status, row.updates) == ("declared", [])
    assert statuses(platform, [case["id"]]) == ["submitted"]
    before = broadcasts_of(platform, company.tenant_id)
    households(company, company.estate_id, 2)
    notice = {"estate_id": company.estate_id, "title": "停车场施工", "body": "周六封闭B1层。", "key": str(uuid.uuid4())}
    assert clerk.post("/workbench/broadcasts", notice, csrf=False).status_code == 403
    assert broadcasts_of(platform, company.tenant_id) == before


def test_a_supervisor_gets_a_403_page_and_no_person_signed_in_goes_to_sign_in(platform, company):
    who = phone()
    with platform.store("gateway").transaction() as session:
        community = f"督办社区-{uuid.uuid4().hex[:8]}"
        staff.invite(session, who, "党支部书记", "supervisor", "test", utcnow(), community=community)
    supervisor = Resident(platform, who)
    for path in ("/workbench/incidents", "/workbench/incidents/new", "/workbench/broadcasts",
                 "/workbench/broadcasts/new"):  # fmt: skip
        assert supervisor.get(path).status_code == 403, path
    refused = supervisor.post("/workbench/incidents", {"estate_id": company.estate_id} | OUTAGE)
    assert refused.status_code == 403
    bare = anonymous(platform, "/workbench/incidents")
    assert bare.status_code == 303 and bare.headers["Location"] == "/signin?next=/workbench/incidents"


# --- broadcasts -----------------------------------------------------------------------------------


def test_a_notice_to_a_building_reaches_its_households_and_shows_progress_until_done(platform, company):
    households(company, company.estate_id, 4, building="7")
    households(company, company.estate_id, 3, building="8")
    clerk = clerk_of(platform, company)
    form = clerk.get("/workbench/broadcasts/new")
    key = re.search(r'name="key" value="([^"]+)"', form.text).group(1)
    notice = {"estate_id": company.estate_id, "building": "7", "title": "7号楼电梯检修",
              "body": "周六9点至12点电梯停用。", "severity": "normal", "key": key}  # fmt: skip
    sent = clerk.post("/workbench/broadcasts", notice)
    assert sent.status_code == 303, sent.text
    broadcast_id = re.search(r"/workbench/broadcasts/([^?]+)", sent.headers["Location"]).group(1)
    again = clerk.post("/workbench/broadcasts", notice)  # a second click on the same form: the same notice
    assert again.headers["Location"] == sent.headers["Location"]

    def done() -> str | None:
        page = clerk.get(f"/workbench/broadcasts/{broadcast_id}").text
        return page if 'data-status="done"' in page else None

    first = clerk.get(f"/workbench/broadcasts/{broadcast_id}").text
    assert '<dd data-count="total">4</dd>' in first
    if 'data-status="sending"' in first:
        assert '<meta http-equiv="refresh" content="5">' in first
    page = wait_for(done, timeout=30)
    assert '<dd data-count="sent">4</dd>' in page and 'http-equiv="refresh"' not in page
    assert "7号楼电梯检修" in page and "<script" not in page and 'style="' not in page
    listing = clerk.get("/workbench/broadcasts").text
    assert f'data-broadcast="{broadcast_id}"' in listing
    told = company.get(f"/api/v1/broadcasts/{broadcast_id}").json()
    assert (told["total"], told["created_by"]) == (4, clerk.member.actor)  # who sent it, kept with it
    assert '<span id="sender">张调度</span>' in page


def test_a_notice_with_bad_input_or_nobody_to_tell_is_a_422_and_another_company_s_is_a_404(
    platform, company, second_company
):
    clerk = clerk_of(platform, company)
    before = broadcasts_of(platform, company.tenant_id)
    bad = clerk.post("/workbench/broadcasts", {"estate_id": company.estate_id, "title": "", "body": "周六停电。",
                                               "key": str(uuid.uuid4())})  # fmt: skip
    assert bad.status_code == 422 and 'data-field="title"' in bad.text and "周六停电。" in bad.text
    nobody = clerk.post("/workbench/broadcasts", {"estate_id": company.estate_id, "building": "99", "title": "通知",
                                                  "body": "无人", "key": str(uuid.uuid4())})  # fmt: skip
    assert nobody.status_code == 422 and 'data-field="building"' in nobody.text and 'value="99"' in nobody.text
    assert broadcasts_of(platform, company.tenant_id) == before

    households(second_company, second_company.estate_id, 2)
    theirs = second_company.post("/api/v1/broadcasts", {"estate_id": second_company.estate_id, "title": "别家通知",
                                                        "body": "x"}).json()  # fmt: skip
    assert clerk.get(f"/workbench/broadcasts/{theirs['id']}").status_code == 404
    assert f'data-broadcast="{theirs["id"]}"' not in clerk.get("/workbench/broadcasts").text
    # their estate is not ours: nobody of ours lives there, nothing is sent
    cross = clerk.post("/workbench/broadcasts", {"estate_id": second_company.estate_id, "title": "通知", "body": "x",
                                                 "key": str(uuid.uuid4())})  # fmt: skip
    assert cross.status_code == 422
    assert broadcasts_of(platform, company.tenant_id) == before
