"""The queue page says when a search counted only its newest matches (rendered without a service)."""

from types import SimpleNamespace

import pytest

from services.gateway.workbench import workbench_page
from services.requests import lifecycle

pytestmark = pytest.mark.unit

PERSON = SimpleNamespace(csrf="token", phone="+8613800000016")
MEMBER = SimpleNamespace(tenant_id="t1", tenant_name="缔华物业", community=None, name="王经理", role="admin",
                         is_admin=True)  # fmt: skip


def queue(counts: dict) -> str:
    page = workbench_page(
        "workbench_queue.html", PERSON, MEMBER, cases=[], counts=counts, all_link="/workbench?q=漏水",
        status_link={s: f"/workbench?status={s}" for s in lifecycle.STATES}, args={"q": "漏水"}, errors={},
        next_page=None, estates=[], categories=[], refresh=False,
    )  # fmt: skip
    return page.get_data(as_text=True)


def test_a_capped_search_count_shows_1000_plus_and_says_only_the_newest_were_counted():
    by_status = dict.fromkeys(lifecycle.STATES, 0) | {"closed": 990, "submitted": 10}
    capped = queue({"total": 1000, "by_status": by_status, "capped": True})
    exact = queue({"total": 1000, "by_status": by_status, "capped": False})
    assert "全部 <b>1000+</b>" in capped and "只统计了最新的 1000 条" in capped
    assert "全部 <b>1000</b>" in exact and "只统计" not in exact
