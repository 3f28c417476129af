"""Follow-up visits are spread fairly: 30 closures, 3 eligible volunteers → 10 each."""

from collections import Counter

import pytest

from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def test_thirty_closed_cases_spread_ten_ten_ten_among_the_visit_volunteers(company):
    third = company.post(
        "/api/v1/volunteers",
        {"name": "王秀兰", "phone": "13800000103", "estate_ids": [company.estate_id], "skills": ["visit"]},
    )
    assert third.status_code == 201
    no_visit_skill = company.post(
        "/api/v1/volunteers",
        {"name": "赵志强", "phone": "13800000104", "estate_ids": [company.estate_id], "skills": ["repair"]},
    )
    assert no_visit_skill.status_code == 201
    eligible = {v["id"] for v in company.volunteers} | {third.json()["id"]}
    cases = [company.case(company.estate_id, phone=f"1391230{n:04d}")["id"] for n in range(30)]
    for case_id in cases:
        company.close(case_id, assignee="赵志强")  # handled by a volunteer without the visit skill

    def assigned():
        found = [company.get(f"/api/v1/cases/{c}/visits").json()["data"] for c in cases]
        return all(len(v) == 1 for v in found) and [v[0]["volunteer_id"] for v in found]

    spread = Counter(wait_for(assigned, timeout=60))
    assert set(spread) == eligible
    assert sorted(spread.values()) == [10, 10, 10]
