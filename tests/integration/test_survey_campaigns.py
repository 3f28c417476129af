"""A campaign through the platform: the tenant lists households, each gets a link, answers count."""

import pytest

from tests.support.infra import wait_for
from tests.support.people import post_form, survey_link

pytestmark = pytest.mark.integration


def test_a_campaign_reaches_every_household_once_and_tracks_the_response_rate(platform, company, second_company):
    households = [
        {"estate_id": company.estate_id, "household": "5-1-101", "name": "刘阿姨", "phone": "13912345101"},
        {"estate_id": company.estate_id, "household": "5-1-102", "name": "周先生", "phone": "13912345102"},
        {"estate_id": company.estate_id, "household": "5-1-101", "name": "刘叔叔", "phone": "13912345103"},
    ]
    foreign = households[:1] + [dict(households[1], estate_id=second_company.estate_id)]
    refused = company.post("/api/v1/survey-campaigns", {"title": "季度满意度调查", "households": foreign})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"households": {"1": {"estate_id": ["没有这个小区 (no such estate)"]}}}

    created = company.post("/api/v1/survey-campaigns", {"title": "季度满意度调查", "households": households})
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (campaign["households"], campaign["duplicates_skipped"], campaign["answered"]) == (2, 1, 0)
    assert created.headers["Location"] == f"/api/v1/survey-campaigns/{campaign['id']}"

    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912345101"))
    wait_for(lambda: survey_link(platform, company.tenant_id, "+8613912345102"))
    assert survey_link(platform, company.tenant_id, "+8613912345103") is None  # the household's second contact
    page = platform.http.get(link)
    assert page.status_code == 200 and "请为您所在小区的物业服务打分" in page.text
    assert post_form(platform, link, {"score": "5"}).status_code == 200
    assert post_form(platform, link, {"score": "1"}).status_code == 409

    progress = company.get(f"/api/v1/survey-campaigns/{campaign['id']}").json()
    assert (progress["answered"], progress["response_rate"]) == (1, 0.5)
    assert progress["estates"] == [
        {"estate_id": company.estate_id, "households": 2, "answered": 1, "response_rate": 0.5}
    ]
    assert [c["id"] for c in company.get("/api/v1/survey-campaigns").json()["data"]] == [campaign["id"]]
    assert second_company.get(f"/api/v1/survey-campaigns/{campaign['id']}").status_code == 404
    assert second_company.get("/api/v1/survey-campaigns").json()["data"] == []
    assert link.rsplit("/s/", 1)[1] not in str(progress)
