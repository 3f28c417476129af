"""A resident on a small phone (360×800, no JavaScript): opens the estate's page from its QR code,
signs in with a code, reports a case with a photo, follows it while staff handle it, rates it on
its page, and sees it on the public board; two phones of one household vote once between them.
Screenshots are kept in tests/browser/screenshots/resident-*.png for a person to look at."""

from __future__ import annotations

import uuid

import pytest
from PIL import Image

from tests.support.browser import sign_in
from tests.support.infra import wait_for
from tests.support.people import Resident, add_confirmed_member, proposal

pytestmark = pytest.mark.browser

PHONE_SIZE = {"width": 360, "height": 800}


def test_a_resident_reports_follows_rates_and_sees_it_on_the_board(platform, company, browser, sign_in_codes, tmp_path):
    phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
    add_confirmed_member(platform, company, "+86" + phone, "3-2-501")
    photo = tmp_path / "leak.jpg"
    Image.new("RGB", (800, 600), (40, 90, 160)).save(photo, "JPEG")

    resident = browser.page("resident", javascript=False, viewport=PHONE_SIZE)
    assert resident.goto(f"{platform.base_url}/e/{company.estate_id}") == 200
    resident.screenshot("resident-estate")
    resident.click("a[href$='/report']", navigates=True)
    resident.screenshot("resident-signin")
    sign_in(resident, sign_in_codes, phone)
    assert resident.url().endswith(f"/e/{company.estate_id}/report")
    assert resident.text("h1") == "反映问题"
    resident.screenshot("resident-report-form")

    resident.select("select[name=category]", "repair")
    resident.fill("input[name=title]", "厨房水管漏水")
    resident.fill("textarea[name=description]", "厨房水槽下面的水管一直在滴水，地面已经湿了。")
    resident.fill("input[name=name]", "陈先生")
    resident.files("input[name=photo]", [str(photo)])
    resident.click("form.card button[type=submit]", navigates=True)
    assert resident.text("h1") == "厨房水管漏水"
    case_id = resident.url().rsplit("/", 1)[1]
    assert resident.count(".photos img") == 1
    resident.screenshot("resident-case-submitted")

    assert resident.goto(f"{platform.base_url}/me/cases") == 200
    assert "厨房水管漏水" in resident.text("main")
    resident.screenshot("resident-my-cases")

    staff = company.post(f"/api/v1/cases/{case_id}/comments", {"body": "已安排王师傅今天下午上门维修。"})
    assert staff.status_code == 201
    company.close(case_id)
    assert resident.goto(f"{platform.base_url}/me/cases/{case_id}") == 200
    assert resident.count("ol.timeline li.reached") == 6
    wait_for(lambda: resident.goto(f"{platform.base_url}/me/cases/{case_id}") and resident.count("#survey form"), 30)
    resident.screenshot("resident-case-closed-survey")
    score = resident.box("#survey label:has(input[name=score][value='5'])")
    assert score["height"] >= 44 and score["width"] >= 44
    resident.click("#survey label:has(input[name=score][value='5'])")
    resident.click("#survey label:has(input[name=solved][value='true'])")
    resident.fill("#survey textarea[name=comment]", "师傅很负责，谢谢！")
    resident.click("#survey button[type=submit]", navigates=True)
    assert "感谢您的评价" in resident.text(".notice") and "已评价" in resident.text("#survey")
    resident.screenshot("resident-case-rated")

    # A confirmed resident's rating is vouched for: the public board shows it once requests has it.
    wait_for(lambda: company.get(f"/api/v1/cases/{case_id}").json()["rating_verified"], 30)
    assert resident.goto(f"{platform.base_url}/p/estates/{company.estate_id}/board") == 200
    assert "厨房水管漏水" in resident.text("main") and "业主评价：5 分" in resident.text("main")
    resident.screenshot("resident-board")


def test_two_phones_of_one_household_vote_once_between_them_in_the_browser(platform, company, browser):
    question = proposal(company, title="在地下车库安装电动车充电桩")
    first = Resident(platform, "+86139" + f"{uuid.uuid4().int % 10**8:08d}")
    spouse = Resident(platform, "+86139" + f"{uuid.uuid4().int % 10**8:08d}")
    for person in (first, spouse):
        add_confirmed_member(platform, company, person.phone, "3-2-501")
    path = f"{platform.base_url}/e/{company.estate_id}/proposals/{question['id']}"
    pages = []
    for name, person in (("vote-first", first), ("vote-spouse", spouse)):
        page = browser.page(name, javascript=False, viewport=PHONE_SIZE)
        page.cookie(platform.base_url, "lx_session", person.http.cookies.get("lx_session"))  # signed in already
        assert page.goto(path) == 200
        pages.append(page)
    pages[0].screenshot("resident-proposal")
    pages[0].click("label:has(input[name=choice][value='support'])")
    pages[0].click("form.card button[type=submit]", navigates=True)
    assert "投票成功" in pages[0].text(".notice")
    pages[1].click("label:has(input[name=choice][value='oppose'])")
    pages[1].click("form.card button[type=submit]", navigates=True)
    assert "本户已投票" in pages[1].text(".errors")
    pages[1].screenshot("resident-vote-409")
    assert company.get(f"/api/v1/proposals/{question['id']}").json()["tally"]["support"] == 1
