"""The party branch's view in words (services/gateway/branch.py): companies side by side, the newest
escalation first, overdue cases grouped by company; nothing here decides what is overdue."""

from datetime import datetime

import pytest

from services.gateway import branch
from services.gateway.workbench import actor_name

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 8, 0, 0)
NAMES = {"t-a": "甲物业", "t-b": "乙物业", "t-branch": "社区党委"}
ESTATES = {"e-a": {"name": "东方现代城", "tenant": "t-a"}, "e-b": {"name": "天玺华府", "tenant": "t-b"}}


def case(id_, estate="e-a", created="2026-12-01T08:00:00Z", escalated=(), **fields):
    whistles = [{"at": at, "level": i + 1, "reason": "超时"} for i, at in enumerate(escalated)]
    return {"id": id_, "estate_id": estate, "created_at": created, "status": "submitted", "sla_stage": "response",
            "sla_due_at": "2026-12-01T09:00:00Z", "overdue": True, "escalations": whistles} | fields  # fmt: skip


def test_every_company_with_an_estate_or_a_case_is_a_row_and_the_party_branch_s_own_tenant_is_not():
    figures = {"companies": [{"tenant": "t-a", "open": 3, "overdue": 1, "escalated": 1}]}
    rows = branch.companies(NAMES, ESTATES, figures)
    assert [(r["name"], r["open"], r["overdue"], r["escalated"]) for r in rows] == [
        ("甲物业", 3, 1, 1), ("乙物业", 0, 0, 0)]  # fmt: skip
    assert branch.totals(rows) == {"open": 3, "overdue": 1, "escalated": 1}


def test_escalations_come_newest_escalation_first_with_how_long_they_have_waited():
    old_case_new_whistle = case("1", escalated=("2026-12-02T07:30:00Z",))
    new_case_old_whistle = case("2", estate="e-b", created="2026-12-02T01:00:00Z", escalated=("2026-12-02T02:00:00Z",))
    rows = branch.escalations([new_case_old_whistle, old_case_new_whistle], NAMES, ESTATES, NOW)
    assert [(r["id"], r["company"], r["estate"], r["waiting"]) for r in rows] == [
        ("1", "甲物业", "东方现代城", "30 分钟"), ("2", "乙物业", "天玺华府", "6 小时 0 分")]  # fmt: skip
    assert rows[0]["age"] == "24 小时 0 分" and rows[0]["badge"].kind == "late"


def test_overdue_cases_are_grouped_by_company():
    found = [case("3", estate="e-b"), case("2"), case("1", estate="e-b")]
    grouped = branch.overdue_by_company(found, NAMES, ESTATES, NOW)
    assert [(company, [c["id"] for c in cases]) for company, cases in grouped] == [
        ("乙物业", ["3", "1"]), ("甲物业", ["2"])]  # fmt: skip


def test_a_supervisor_s_changes_read_as_the_party_branch_and_the_person():
    assert actor_name("supervisor:p1/赵书记") == "党支部 赵书记"
    assert actor_name("staff:p2/李师傅") == "李师傅"
