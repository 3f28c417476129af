"""The resident pages over HTTP: the estate's page, reporting, my cases, replies, activities, the
inbox; signed in or sent to sign in, another resident's case a 404, bad input a 422 that keeps
what was typed, a form without its CSRF token a 403 that changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests as http
from sqlalchemy import select

from services.common.db import utcnow
from services.requests.models import Case
from tests.support.people import Resident, add_confirmed_member, anonymous, phone, proposal

pytestmark = pytest.mark.integration


def report(resident: Resident, estate_id: str, **fields) -> http.Response:
    form = {
        "category": "repair",
        "title": "楼道灯不亮",
        "description": "3号楼2单元5楼楼道灯坏了",
        "household": "3-2-501",
    }
    return resident.post(f"/e/{estate_id}/report", form | fields)


def case_row(platform, case_id: str) -> Case:
    store = platform.store("requests")
    try:
        with store.read() as session:
            case = session.get(Case, case_id)
            session.expunge(case)
            return case
    finally:
        store.engine.dispose()


def cases_of(platform, reporter: str) -> list:
    store = platform.store("requests")
    try:
        with store.read() as session:
            return session.scalars(select(Case.id).where(Case.reporter_phone == reporter)).all()
    finally:
        store.engine.dispose()


def test_the_estate_page_is_open_to_anyone_and_an_unknown_estate_is_a_404_page(platform, company):
    page = anonymous(platform, f"/e/{company.estate_id}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "东方现代城" in page.text and f'href="/e/{company.estate_id}/report"' in page.text
    assert f"/p/estates/{company.estate_id}/board" in page.text and "登录" in page.text
    missing = anonymous(platform, "/e/no-such-estate")
    assert missing.status_code == 404 and "没有找到这个小区" in missing.text
    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, "3-2-501")
    mine = resident.get(f"/e/{company.estate_id}")
    assert "3-2-501" in mine.text and "退出" in mine.text


@pytest.mark.parametrize(
    "path", ["/me", "/me/cases", "/me/inbox", "/me/cases/anything", "/e/{estate}/report", "/e/{estate}/activities"]
)
def test_pages_of_my_own_send_me_to_sign_in_and_back(platform, company, path):
    path = path.format(estate=company.estate_id)
    response = anonymous(platform, path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/signin?next=" + path


def test_posting_without_signing_in_changes_nothing(platform, company):
    response = anonymous(platform, f"/e/{company.estate_id}/report", "post", data={"title": "x"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin?next=")


def test_a_confirmed_resident_reports_a_case_and_follows_it(platform, company):
    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, "3-2-501")
    form = resident.get(f"/e/{company.estate_id}/report")
    assert form.status_code == 200
    assert 'name="csrf"' in form.text and 'value="3-2-501"' in form.text and "水电维修" in form.text
    assert 'name="phone"' not in form.text  # the reporter is the signed-in phone, never a field
    sent = report(resident, company.estate_id, name="陈先生", phone="+8613000000000")
    assert sent.status_code == 303, sent.text
    case_id = sent.headers["Location"].rsplit("/", 1)[1]
    row = case_row(platform, case_id)
    assert (row.reporter_phone, row.reporter_household, row.reporter_name, row.channel) == (
        resident.phone,
        "3-2-501",
        "陈先生",
        "resident_page",
    )
    assert row.history[0].note is None  # confirmed by the register: nothing to flag

    listed = resident.get("/me/cases")
    assert listed.status_code == 200 and "楼道灯不亮" in listed.text and "东方现代城" in listed.text
    detail = resident.get(f"/me/cases/{case_id}")
    assert detail.status_code == 200 and "已提交" in detail.text and "3-2-501" in detail.text
    assert detail.text.count('class="reached"') == 1

    for action, extra in (("accept", {}), ("assign", {"assignee": "王师傅"})):
        assert company.transition(case_id, action, **extra).status_code == 200
    staff = company.post(f"/api/v1/cases/{case_id}/comments", {"body": "师傅下午两点上门", "visibility": "public"})
    assert staff.status_code == 201, staff.text
    hidden = company.post(f"/api/v1/cases/{case_id}/comments", {"body": "内部：备件待采购", "visibility": "internal"})
    assert hidden.status_code == 201
    detail = resident.get(f"/me/cases/{case_id}")
    assert detail.text.count('class="reached"') == 3 and "已派单" in detail.text
    assert "师傅下午两点上门" in detail.text and "内部：备件待采购" not in detail.text

    replied = resident.post(f"/me/cases/{case_id}/replies", {"body": "好的，家里有人"})
    assert replied.status_code == 303 and replied.headers["Location"] == f"/me/cases/{case_id}#replies"
    comments = company.get(f"/api/v1/cases/{case_id}/comments").json()["data"]
    mine = [c for c in comments if c["body"] == "好的，家里有人"]
    assert mine and (mine[0]["author_role"], mine[0]["visibility"]) == ("resident", "public")
    assert "好的，家里有人" in resident.get(f"/me/cases/{case_id}").text

    blank = resident.post(f"/me/cases/{case_id}/replies", {"body": "   "})
    assert blank.status_code == 422 and "不能为空" in blank.text


def test_a_resident_without_a_confirmed_household_may_report_and_the_case_says_so(platform, company):
    resident = Resident(platform, phone())
    form = resident.get(f"/e/{company.estate_id}/report")
    assert "尚未确认" in form.text
    sent = report(resident, company.estate_id, household="5-1-1202")
    assert sent.status_code == 303, sent.text
    row = case_row(platform, sent.headers["Location"].rsplit("/", 1)[1])
    assert row.reporter_household == "5-1-1202" and row.reporter_name == "业主"
    assert row.history[0].note.startswith("门牌为业主自填")


def test_a_household_not_in_the_estates_register_is_a_422_that_keeps_what_was_typed(platform, company):
    neighbour = phone()
    add_confirmed_member(platform, company, neighbour, "1-1-101")  # the estate has a register now
    resident = Resident(platform, phone())
    sent = report(resident, company.estate_id, household="9-9-909", title="水管漏水<script>", description="")
    assert sent.status_code == 422
    assert "本小区住户名册中没有这一户" in sent.text
    assert 'value="水管漏水&lt;script&gt;"' in sent.text and 'value="9-9-909"' in sent.text
    assert cases_of(platform, resident.phone) == []
    bad = report(resident, company.estate_id, household="1-1-101", title="", category="")
    assert bad.status_code == 422
    assert "请选择类别" in bad.text
    assert "不能为空" in bad.text and "(must not be blank)" not in bad.text
    in_register = report(resident, company.estate_id, household="1-1-101")
    assert in_register.status_code == 303  # in the register, not confirmed for this phone: recorded, flagged
    row = case_row(platform, in_register.headers["Location"].rsplit("/", 1)[1])
    assert row.history[0].note.startswith("门牌为业主自填")


def test_a_form_without_its_csrf_token_is_a_403_and_changes_nothing(platform, company):
    resident = Resident(platform, phone())
    sent = resident.post(f"/e/{company.estate_id}/report", {"category": "repair", "title": "x"}, csrf=False)
    assert sent.status_code == 403 and "没有生效" in sent.text
    forged = resident.post(
        f"/e/{company.estate_id}/report", {"category": "repair", "title": "x", "csrf": "guess"}, csrf=False
    )
    assert forged.status_code == 403
    assert cases_of(platform, resident.phone) == []
    case = company.case(company.estate_id, phone=resident.phone[3:])
    reply = resident.post(f"/me/cases/{case['id']}/replies", {"body": "在吗"}, csrf=False)
    assert reply.status_code == 403
    assert company.get(f"/api/v1/cases/{case['id']}/comments").json()["data"] == []


def test_another_residents_case_or_a_made_up_id_is_a_404_page(platform, company, second_company):
    owner, stranger = Resident(platform, phone()), Resident(platform, phone())
    case = company.case(company.estate_id, phone=owner.phone[3:], title="电梯异响")
    elsewhere = second_company.case(second_company.estate_id, phone=owner.phone[3:], title="车库积水")
    listed = owner.get("/me/cases").text
    assert "电梯异响" in listed and "车库积水" in listed  # my cases with every company
    assert owner.get(f"/me/cases/{elsewhere['id']}").status_code == 200
    for path in (f"/me/cases/{case['id']}", "/me/cases/made-up-id"):
        response = stranger.get(path)
        assert response.status_code == 404 and "没有找到这个诉求" in response.text
        assert "电梯异响" not in response.text
    sneaky = stranger.post(f"/me/cases/{case['id']}/replies", {"body": "我来插一句"})
    assert sneaky.status_code == 404
    assert "电梯异响" not in stranger.get("/me/cases").text


def test_my_page_lists_my_households_and_my_inbox_shows_my_messages_whole(platform, company):
    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, "3-2-501")
    me = resident.get("/me")
    assert me.status_code == 200 and "东方现代城" in me.text and "3-2-501" in me.text
    case = company.case(company.estate_id, phone=resident.phone[3:], title="垃圾未清运")
    company.close(case["id"])
    from tests.support.infra import wait_for

    inbox = wait_for(lambda: (r := resident.get("/me/inbox")).status_code == 200 and "/s/" in r.text and r, 30)
    assert re.search(r'<a href="http://[^"]+/s/[A-Za-z0-9_\-]+"', inbox.text)  # my own link, whole
    assert "/s/***" not in inbox.text
    other = Resident(platform, phone())
    assert "/s/" not in other.get("/me/inbox").text


def activity(company, capacity: int = 1) -> dict:
    starts = utcnow() + timedelta(days=1)
    body = {
        "title": "义务理发",
        "kind": "haircut",
        "estate_ids": [company.estate_id],
        "place": "社区活动室",
        "starts_at": starts.isoformat() + "Z",
        "ends_at": (starts + timedelta(hours=2)).isoformat() + "Z",
        "capacity": capacity,
    }
    created = company.post("/api/v1/activities", body)
    assert created.status_code == 201, created.text
    assert company.post(f"/api/v1/activities/{created.json()['id']}/publish").status_code == 200
    return created.json()


def test_activities_one_sign_up_per_household_a_waiting_place_and_cancel(platform, company):
    event = activity(company, capacity=1)
    first, spouse, next_door, newcomer = (Resident(platform, phone()) for _ in range(4))
    add_confirmed_member(platform, company, first.phone, "3-2-501")
    add_confirmed_member(platform, company, spouse.phone, "3-2-501")
    add_confirmed_member(platform, company, next_door.phone, "3-2-502")
    week = f"?week_of={(utcnow() + timedelta(hours=8, days=1)).date().isoformat()}"
    page = first.get(f"/e/{company.estate_id}/activities{week}")
    assert page.status_code == 200 and "义务理发" in page.text and "剩余名额 1" in page.text

    signup = f"/e/{company.estate_id}/activities/{event['id']}/signup"
    assert first.post(signup).status_code == 303
    again = spouse.post(signup)
    assert again.status_code == 409 and "该户已报名此活动" in again.text
    assert next_door.post(signup).status_code == 303
    waiting = next_door.get(f"/e/{company.estate_id}/activities{week}").text
    assert "候补中" in waiting and "候补第 1 位" in waiting
    assert "已报名" in spouse.get(f"/e/{company.estate_id}/activities{week}").text  # the household's, seen by both

    refused = newcomer.post(signup)
    assert refused.status_code == 403 and "社区确认" in refused.text

    mine = re.search(
        r'action="(/e/[^"]+/signups/[^"]+/cancel)"', first.get(f"/e/{company.estate_id}/activities{week}").text
    )
    assert mine is not None
    assert next_door.post(mine.group(1)).status_code == 404  # another household's sign-up
    assert first.post(mine.group(1), csrf=False).status_code == 403
    assert first.post(mine.group(1)).status_code == 303
    promoted = next_door.get(f"/e/{company.estate_id}/activities{week}").text
    assert "已报名" in promoted and "候补第" not in promoted


def jpeg(color=(200, 60, 40)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, "JPEG")
    return out.getvalue()


def test_a_report_with_photos_keeps_them_and_only_i_see_them(platform, company):
    resident, stranger = Resident(platform, phone()), Resident(platform, phone())
    form = resident.get(f"/e/{company.estate_id}/report").text
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    fields = {"category": "repair", "title": "墙皮脱落", "description": "客厅墙皮大面积脱落", "household": "3-2-501"}
    files = [("photo", ("wall.jpg", jpeg(), "image/jpeg")), ("photo", ("wall2.jpg", jpeg((9, 9, 9)), "image/jpeg"))]
    sent = resident.post(f"/e/{company.estate_id}/report", fields, files=files)
    assert sent.status_code == 303, sent.text
    case_id = sent.headers["Location"].rsplit("/", 1)[1]
    assert len(company.get(f"/api/v1/cases/{case_id}/photos").json()["data"]) == 2
    page = resident.get(f"/me/cases/{case_id}").text
    srcs = re.findall(r'<img src="(/me/cases/[^"]+/photos/[^"]+)"', page)
    assert len(srcs) == 2
    image = resident.get(srcs[0])
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Cache-Control"] == "private, no-store"
    assert stranger.get(srcs[0]).status_code == 404
    assert anonymous(platform, srcs[0]).status_code == 303

    four = [("photo", (f"p{n}.jpg", jpeg(), "image/jpeg")) for n in range(4)]
    too_many = resident.post(f"/e/{company.estate_id}/report", fields | {"title": "四张照片"}, files=four)
    assert too_many.status_code == 422 and "最多 3 张照片" in too_many.text and 'value="四张照片"' in too_many.text
    fake = [("photo", ("evil.jpg", b"<?php echo 1; ?>", "image/jpeg"))]
    refused = resident.post(f"/e/{company.estate_id}/report", fields | {"title": "假照片"}, files=fake)
    assert refused.status_code == 422 and "evil.jpg" in refused.text
    assert len(cases_of(platform, resident.phone)) == 1


def test_two_phones_of_one_household_vote_once_between_them(platform, company):
    question = proposal(company)
    first, spouse, outsider = Resident(platform, phone()), Resident(platform, phone()), Resident(platform, phone())
    add_confirmed_member(platform, company, first.phone, "3-2-501")
    add_confirmed_member(platform, company, spouse.phone, "3-2-501")
    listed = first.get(f"/e/{company.estate_id}/proposals")
    assert listed.status_code == 200 and "充电桩" in listed.text and "投票中" in listed.text
    path = f"/e/{company.estate_id}/proposals/{question['id']}"
    page = first.get(path)
    assert page.status_code == 200 and "代表住户 3-2-501" in page.text and "表决结果" not in page.text

    assert first.post(f"{path}/vote", {"choice": "support"}, csrf=False).status_code == 403
    voted = first.post(f"{path}/vote", {"choice": "support"})
    assert voted.status_code == 303 and voted.headers["Location"] == f"{path}?done=vote"
    assert "投票成功" in first.get(voted.headers["Location"]).text
    # A fresh look (mine or my spouse's) shows the household's vote, and no form that could only fail.
    for looker in (first, spouse):
        again = looker.get(path).text
        assert 'id="my-votes"' in again and "住户 3-2-501</dt><dd>赞成" in again and 'name="choice"' not in again
    second = spouse.post(f"{path}/vote", {"choice": "oppose"})
    assert second.status_code == 409 and "本户已投票" in second.text
    tally = company.get(f"/api/v1/proposals/{question['id']}").json()["tally"]
    assert tally == {"support": 1, "oppose": 0, "abstain": 0}

    refused = outsider.post(f"{path}/vote", {"choice": "oppose"})
    assert refused.status_code == 403 and "社区确认" in refused.text
    assert first.post(f"{path}/vote", {}).status_code in (409, 422)
    assert first.get(f"/e/{company.estate_id}/proposals/made-up").status_code == 404
    assert anonymous(platform, path).status_code == 303


def test_the_tally_shows_once_the_vote_has_closed(platform, company):
    from sqlalchemy import update

    from services.requests.models import Proposal

    question = proposal(company, title="更换小区大门门禁")
    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, "5-1-101")
    assert (
        resident.post(f"/e/{company.estate_id}/proposals/{question['id']}/vote", {"choice": "support"}).status_code
        == 303
    )
    store = platform.store("requests")
    try:
        with store.transaction() as session:
            session.execute(
                update(Proposal)
                .where(Proposal.id == question["id"])
                .values(status="closed", outcome="passed", support=1, oppose=0, abstain=0, closed_at=utcnow())
            )
    finally:
        store.engine.dispose()
    page = resident.get(f"/e/{company.estate_id}/proposals/{question['id']}").text
    assert "表决结果：通过" in page and "赞成" in page and 'name="choice"' not in page


def test_i_rate_my_closed_case_on_its_page_once(platform, company):
    from tests.support.infra import wait_for

    resident = Resident(platform, phone())
    add_confirmed_member(platform, company, resident.phone, "3-2-501")
    sent = report(resident, company.estate_id, title="单元门禁坏了")
    case_id = sent.headers["Location"].rsplit("/", 1)[1]
    assert 'id="survey"' not in resident.get(f"/me/cases/{case_id}").text  # nothing to rate yet
    # The company's template asks NPS and effort too: my page asks what the link's page asks.
    assert company.post("/api/v1/survey-templates", {"nps": True, "ces": True}).status_code in (200, 201)
    company.close(case_id)
    page = wait_for(lambda: (r := resident.get(f"/me/cases/{case_id}")) and 'id="survey"' in r.text and r, 30)
    assert 'action="/me/cases/' + case_id + '/survey"' in page.text and "/s/" not in page.text
    assert 'name="nps"' in page.text and 'name="ces"' in page.text
    assert page.text.count('class="reached"') == 6
    survey = f"/me/cases/{case_id}/survey"
    assert resident.post(survey, {"score": "5"}, csrf=False).status_code == 403
    bad = resident.post(survey, {"score": "9"})
    assert bad.status_code == 422 and "总体满意度" in bad.text
    done = resident.post(survey, {"score": "5", "solved": "true", "comment": "很及时"})
    assert done.status_code == 303, done.text
    after = resident.get(done.headers["Location"]).text
    assert "感谢您的评价" in after and "已评价" in after and 'name="score"' not in after
    again = resident.post(survey, {"score": "1"})
    assert again.status_code == 409 and "已评价" in again.text
    stranger = Resident(platform, phone())
    assert stranger.post(survey, {"score": "1"}).status_code == 404


def test_the_estates_qr_poster_from_the_command_line_and_for_staff(platform, company, second_company, tmp_path):
    import io

    import segno
    from PIL import Image

    from services import cli
    from services.gateway import qr

    with platform.with_env():
        url = qr.estate_url(platform.base_url, company.estate_id)
        svg_file, png_file = tmp_path / "poster.svg", tmp_path / "poster.png"
        assert cli.main(["estate", "qr", company.estate_id, "--out", str(svg_file)]) == 0
        assert cli.main(["estate", "qr", company.estate_id, "--out", str(png_file)]) == 0
        assert cli.main(["estate", "qr", "no-such-estate", "--out", str(tmp_path / "x.svg")]) == 1
        assert cli.main(["estate", "qr", company.estate_id, "--out", str(tmp_path / "x.pdf")]) == 2
    svg = svg_file.read_text("utf-8")
    assert "东方现代城" in svg and "扫码反映问题" in svg and url in svg
    expected = re.search(r' d="([^"]+)"', segno.make(url, error="m").svg_inline(scale=1)).group(1)
    assert expected in svg  # the very QR code of <PUBLIC_BASE_URL>/e/<estate_id>

    poster = Image.open(png_file)
    assert poster.format == "PNG" and poster.size == (qr.WIDTH, qr.HEIGHT)
    raw = io.BytesIO()
    code = segno.make(url, error="m")
    scale = 440 // code.symbol_size(scale=1, border=4)[0]
    code.save(raw, kind="png", scale=scale, border=4)
    symbol = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    left = (qr.WIDTH - symbol.width) // 2
    placed = poster.convert("RGB").crop((left, 150, left + symbol.width, 150 + symbol.height))
    assert placed.tobytes() == symbol.tobytes()

    served = company.get(f"/api/v1/estates/{company.estate_id}/qr.svg")
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/svg+xml")
    assert "东方现代城" in served.text and f"/e/{company.estate_id}" in served.text
    assert second_company.get(f"/api/v1/estates/{company.estate_id}/qr.svg").status_code == 404
    assert anonymous(platform, f"/api/v1/estates/{company.estate_id}/qr.svg").status_code == 401
