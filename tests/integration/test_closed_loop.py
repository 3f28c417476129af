"""The closed loop over real RabbitMQ: close a case → one visit, one survey, the survey link sent."""

import pytest
from sqlalchemy import func, select

from services.notifications.models import Delivery
from tests.support.infra import wait_for
from tests.support.people import post_form, survey_link

pytestmark = pytest.mark.integration


def visits_of(api, case_id):
    return api.get(f"/api/v1/cases/{case_id}/visits").json()["data"]


def surveys_of(api, case_id):
    return api.get(f"/api/v1/cases/{case_id}/surveys").json()["data"]


def test_closing_a_case_schedules_one_visit_issues_one_survey_and_sends_the_link(platform, company):
    case = company.case(company.estate_id)
    closed = company.close(case["id"])
    assert closed["status"] == "closed"
    assert [h["to_status"] for h in closed["history"]] == [
        "submitted",
        "accepted",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
    ]

    visits = wait_for(lambda: visits_of(company, case["id"]))
    surveys = wait_for(lambda: surveys_of(company, case["id"]))
    link = wait_for(lambda: survey_link(platform, company.tenant_id))

    assert len(visits) == 1
    assert visits[0]["status"] == "scheduled"
    assert visits[0]["volunteer_id"] in {v["id"] for v in company.volunteers}
    assert len(surveys) == 1
    assert surveys[0]["status"] == "issued"
    assert "token" not in surveys[0]
    assert link.startswith(platform.base_url + "/s/")

    deliveries = wait_for(
        lambda: [
            d
            for d in company.get("/api/v1/notifications", params={"phone": "13912345678"}).json()["data"]
            if d["kind"] == "survey.issued" and d["status"] in ("sent", "delivered")
        ]
    )
    assert sorted(d["channel"] for d in deliveries) == ["inapp", "log"]
    token = link.rsplit("/", 1)[1]
    assert all(token not in d["body"] and "/s/***" in d["body"] for d in deliveries)


def test_a_score_of_one_reopens_the_case_and_cancels_the_pending_visit(platform, company):
    case = company.case(company.estate_id, phone="13912340001")
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912340001"))
    wait_for(lambda: visits_of(company, case["id"]))

    page = platform.http.get(link)
    assert page.status_code == 200
    assert "楼道灯不亮" in page.text
    answered = post_form(platform, link, {"score": "1", "comment": "还是不亮"})
    assert answered.status_code == 200
    assert "感谢您的评价" in answered.text

    reopened = wait_for(lambda: (c := company.get(f"/api/v1/cases/{case['id']}").json())["status"] == "reopened" and c)
    assert reopened["reopen_count"] == 1
    assert reopened["rating"] == 1
    assert reopened["history"][-1]["source"] == "survey"
    assert reopened["history"][-1]["note"] == "满意度低分 1 分"
    assert wait_for(lambda: visits_of(company, case["id"])[0]["status"] == "cancelled")
    assert surveys_of(company, case["id"])[0]["status"] == "answered"


def test_an_unsatisfied_visit_reopens_the_case_and_voids_the_unanswered_survey(platform, company):
    case = company.case(company.estate_id, phone="13912340002")
    company.close(case["id"])
    visit = wait_for(lambda: visits_of(company, case["id"]))[0]
    wait_for(lambda: surveys_of(company, case["id"]))

    done = company.post(f"/api/v1/visits/{visit['id']}/complete", {"outcome": "unsatisfied", "notes": "灯还是闪"})
    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "unsatisfied"

    reopened = wait_for(lambda: (c := company.get(f"/api/v1/cases/{case['id']}").json())["status"] == "reopened" and c)
    assert reopened["history"][-1]["source"] == "visit"
    assert reopened["history"][-1]["note"] == "回访不满意: 灯还是闪"
    assert wait_for(lambda: surveys_of(company, case["id"])[0]["status"] == "voided")

    again = company.post(f"/api/v1/visits/{visit['id']}/complete", {"outcome": "satisfied"})
    assert again.status_code == 409


def test_a_new_closure_after_reopening_issues_a_fresh_visit_and_survey(platform, company):
    case = company.case(company.estate_id, phone="13912340003")
    company.close(case["id"])
    wait_for(lambda: visits_of(company, case["id"]))
    assert company.transition(case["id"], "reopen", note="业主反映又坏了").status_code == 200
    wait_for(lambda: visits_of(company, case["id"])[0]["status"] == "cancelled")
    for action, extra in (("assign", {"assignee": "王师傅"}), ("start", {}), ("resolve", {}), ("close", {})):
        assert company.transition(case["id"], action, **extra).status_code == 200

    visits = wait_for(lambda: len(v := visits_of(company, case["id"])) == 2 and v)
    surveys = wait_for(lambda: len(s := surveys_of(company, case["id"])) == 2 and s)
    assert [v["status"] for v in visits] == ["cancelled", "scheduled"]
    assert [s["status"] for s in surveys] == ["voided", "issued"]


def test_the_survey_link_notification_is_recorded_once_per_channel(platform, company):
    case = company.case(company.estate_id, phone="13912340004")
    company.close(case["id"])
    wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912340004"))
    with platform.store("notifications").read() as session:
        rows = session.execute(
            select(Delivery.channel, func.count())
            .where(Delivery.tenant == company.tenant_id, Delivery.kind == "survey.issued")
            .group_by(Delivery.channel)
        ).all()
    assert sorted(rows) == [("inapp", 1), ("log", 1)]
