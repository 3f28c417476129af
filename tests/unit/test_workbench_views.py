"""The workbench's words for what the requests service says (services/gateway/workbench.py)."""

from datetime import datetime

import pytest

from services.gateway.tenants import KEY_PREFIX
from services.gateway.workbench import actor_name, queue_query, sla_badge
from services.gateway.workbench_actions import LABELS, NOT_A_CHANGE
from tests.support.probes import post_page_routes

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 8, 0, 0)


def case(**fields):
    return {"status": "accepted", "sla_paused": False, "overdue": False, "sla_stage": "resolution"} | fields


def test_the_badge_shows_time_left_on_the_running_clock():
    badge = sla_badge(case(sla_due_at="2026-12-02T11:30:00.000000Z"), NOW)
    assert (badge.kind, badge.text) == ("open", "办结剩余 3 小时 30 分")
    badge = sla_badge(case(status="submitted", sla_stage="response", sla_due_at="2026-12-02T08:20:00Z"), NOW)
    assert (badge.kind, badge.text) == ("open", "响应剩余 20 分钟")


def test_an_overdue_case_is_red_with_how_late_and_a_paused_one_says_it_waits():
    late = sla_badge(case(overdue=True, sla_due_at="2026-11-29T06:00:00Z"), NOW)
    assert (late.kind, late.text) == ("late", "办结已超时 3 天 2 小时")
    paused = sla_badge(case(status="waiting_resident", sla_paused=True, sla_stage=None, sla_due_at=None), NOW)
    assert (paused.kind, paused.text) == ("paused", "计时暂停（等待业主）")
    done = sla_badge(case(status="closed", sla_stage=None, sla_due_at=None), NOW)
    assert (done.kind, done.text) == ("done", "已结案")


def test_the_filter_form_becomes_the_list_query_with_dates_as_whole_days():
    query = queue_query({"status": "submitted", "q": " 漏水 ", "created_from": "2026-12-01",
                         "created_to": "2026-12-02", "assignee": "", "overdue": "true"}, "abc")  # fmt: skip
    assert query == {
        "status": "submitted", "q": "漏水", "overdue": "true", "created_from": "2026-12-01T00:00:00",
        "created_to": "2026-12-02T23:59:59", "limit": "25", "starting_after": "abc",
    }  # fmt: skip


def test_actors_are_shown_by_name():
    assert actor_name("staff:5f0c/王经理") == "王经理"
    assert actor_name("resident:5f0c") == "业主"
    machine = f"甲物业/{KEY_PREFIX}ab"  # an API key's actor: the company and the key's shown prefix
    assert actor_name(machine) == machine


def test_every_workbench_form_that_changes_something_is_named_in_the_record_of_changes():
    forms = {rule for rule in post_page_routes() if rule.startswith("/workbench")}
    assert forms >= NOT_A_CHANGE
    assert sorted(set(LABELS) ^ (forms - NOT_A_CHANGE)) == []
