"""吹哨 reaches people: when a case is escalated, the estate's staff are told, and no one else."""

import pytest

from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def test_the_second_reopen_escalates_and_the_estates_staff_are_told(platform, company):
    for phone, name, estate in (
        ("13912390001", "刘经理", company.estate_id),  # staff of this estate
        ("13912390002", "周主管", None),  # staff of every estate of the company
        ("13912390003", "吴师傅", "estate-elsewhere"),  # another estate's staff: not told
    ):
        saved = company.post("/api/v1/contacts", {"phone": phone, "name": name, "role": "staff", "estate_id": estate})
        assert saved.status_code == 200, saved.text
    case = company.case(company.estate_id, phone="13912390009", title="地下车库漏水")
    company.close(case["id"])
    for time in ("first", "second"):
        reopened = company.transition(case["id"], "reopen", note=f"{time}: 又漏了")
        assert reopened.status_code == 200, reopened.text
        if time == "first":
            company.close(case["id"])
    assert reopened.json()["escalation_level"] == 1

    def inbox(phone):
        return company.get("/api/v1/inbox", params={"phone": phone}).json()["data"]

    wait_for(lambda: inbox("13912390001") and inbox("13912390002"), timeout=20)  # one transaction tells both
    told = [inbox(phone) for phone in ("13912390001", "13912390002")]
    expected = "诉求“地下车库漏水”已升级为第1级督办（第2次重新打开），请尽快处理并反馈。"
    assert [[(m["subject"], m["body"]) for m in messages] for messages in told] == [
        [("督办：地下车库漏水", f"刘经理您好，{expected}")],
        [("督办：地下车库漏水", f"周主管您好，{expected}")],
    ]
    assert inbox("13912390003") == []
    assert [m["subject"] for m in inbox("13912390009") if m["subject"].startswith("督办")] == []
