"""A small world for the company's statistics (API, page, browser): exact figures known in advance.

Company A (东方花园): three cases — one resolved on time then reopened, one resolved after its
due time, one still open (a noise complaint) — and one survey answered 5 by the late case's
reporter. Company B (远洋花园), same community: one case closed on time, which A must never count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from services.requests.models import Case
from tests.support.api import Api, company_in
from tests.support.infra import Platform, wait_for
from tests.support.people import answer, survey_link


@dataclass
class StatisticsWorld:
    a: Api
    b: Api


def statistics_world(platform: Platform) -> StatisticsWorld:
    tag = uuid.uuid4().hex[:6]
    a = company_in(platform, "政通路社区", f"东方物业{tag}")
    b = company_in(platform, "政通路社区", f"远洋物业{tag}")
    phones = [f"139{uuid.uuid4().int % 10**8:08d}" for _ in range(4)]
    reopened = a.case(a.estate_id, phone=phones[0])
    a.close(reopened["id"])
    assert a.transition(reopened["id"], "reopen", note="灯又坏了").status_code == 200
    late = a.case(a.estate_id, phone=phones[1])
    a.close(late["id"])
    with platform.store("requests").transaction() as session:  # no API moves a due time into the past
        row = session.get(Case, late["id"])
        row.resolution_due_at = row.resolved_at - timedelta(hours=1)
    a.case(a.estate_id, phone=phones[2], category="noise")
    other = b.case(b.estate_id, phone=phones[3])
    b.close(other["id"])
    link = wait_for(lambda: survey_link(platform, a.tenant_id, "+86" + phones[1]), timeout=30)
    assert answer(platform, link, score=5).status_code == 200

    def settled() -> bool:  # the reopened case's survey voided, the late one's answered
        rows = a.get("/api/v1/survey-statistics").json()["data"]
        return [(row["issued"], row["responses"]) for row in rows] == [(1, 1)]

    wait_for(settled, timeout=30)
    return StatisticsWorld(a, b)
