"""A resident answers the survey in a real browser (no JavaScript needed); a second visit sees
"already answered"; a plain HTTP GET of a link, as a link scanner does, records nothing."""

import pytest
from sqlalchemy import select

from services.surveys.models import Survey
from tests.support.infra import wait_for
from tests.support.people import survey_link

pytestmark = pytest.mark.browser


def closed_case_link(platform, company, phone):
    case = company.case(company.estate_id, phone=phone, title="单元门禁坏了")
    company.close(case["id"])
    return case, wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + phone))


def survey_row(platform, case_id):
    store = platform.store("surveys")
    try:
        with store.read() as session:
            return session.scalars(select(Survey).where(Survey.case_id == case_id)).one()
    finally:
        store.engine.dispose()


def test_a_resident_answers_in_the_browser_and_a_second_visit_sees_already_answered(platform, company, browser):
    case, link = closed_case_link(platform, company, "13912348001")

    phone = browser.page("resident", javascript=False)
    assert phone.goto(link) == 200
    assert phone.text("h1") == "满意度评价"
    assert "单元门禁坏了" in phone.text(".card")
    phone.screenshot("survey-form")
    stale = browser.page("stale-form")  # someone else has the form open at the same time
    assert stale.goto(link) == 200
    assert survey_row(platform, case["id"]).status == "issued"  # opening the page recorded nothing

    score = phone.box("label:has(input[name=score][value='5'])")
    assert score["height"] >= 44 and score["width"] >= 44  # a thumb can hit it
    phone.click("label:has(input[name=score][value='5'])")
    phone.click("label:has(input[name=attitude][value='4'])")
    phone.click("label:has(input[name=solved][value='true'])")
    phone.fill("textarea[name=comment]", "师傅很负责，谢谢！")
    phone.click("button[type=submit]", navigates=True)
    assert phone.text("h1") == "感谢您的评价"
    phone.screenshot("survey-thanks")

    row = survey_row(platform, case["id"])
    assert (row.status, row.score, row.attitude, row.speed, row.solved, row.comment) == (
        "answered",
        5,
        4,
        None,
        True,
        "师傅很负责，谢谢！",
    )

    # The stale form is sent after the answer: a friendly "already answered" page, the answer stays.
    stale.click("label:has(input[name=score][value='1'])")
    stale.click("button[type=submit]", navigates=True)
    assert stale.text("h1") == "您已评价"
    assert survey_row(platform, case["id"]).score == 5

    again = browser.page("second-visit")
    assert again.goto(link) == 200
    assert again.text("h1") == "您已评价"
    assert again.count("form") == 0
    again.screenshot("survey-already-answered")


def test_a_plain_http_get_of_the_link_records_nothing(platform, company, browser):
    case, link = closed_case_link(platform, company, "13912348002")
    scanner = platform.http
    for agent in ("WhatsApp/2.23", "Mozilla/5.0 (compatible; WeChat link preview)", "curl/8.5"):
        response = scanner.get(link, headers={"User-Agent": agent})
        assert response.status_code == 200 and "提交评价" in response.text
    row = survey_row(platform, case["id"])
    assert (row.status, row.score, row.answered_at, row.fingerprint) == ("issued", None, None, None)

    page = browser.page("after-scanner")
    assert page.goto(link) == 200
    assert page.text("h1") == "满意度评价"  # the resident can still answer after the scanner's visits


def test_an_expired_or_unknown_link_shows_a_clear_page(platform, company, browser):
    page = browser.page("unknown")
    assert page.goto(platform.base_url + "/s/" + "x" * 32) == 404
    assert page.text("h1") == "问卷不存在"
    page.screenshot("survey-missing")
