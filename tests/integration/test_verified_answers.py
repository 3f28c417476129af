"""Survey answers no company can fake: every answer is kept, only verified ones move the league.

Verified: the answering browser is signed in as a phone the community confirmed in the
survey's household. The company holds its residents' phones (it types them into walk-in
cases), so an answer through the link alone — from anyone — is shown to the company and
never counted in public.
"""

import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.errors import Conflict, Gone, NotFound
from services.surveys import statistics, tallies
from tests.support.api import company_in
from tests.support.infra import wait_for
from tests.support.people import Seams, answer, claim, confirm, post_form, sign_in, survey_link, survey_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(platform):
    """A community of its own with one company and one estate; households are made per test."""
    name = f"验证社区{uuid.uuid4().hex[:6]}"
    company = company_in(platform, name, f"验证物业{uuid.uuid4().hex[:4]}")
    company.community = name
    company.next_phone = iter(range(1000))
    return company


def closed_case_link(platform, company, household):
    """A case reported from ``household``, closed; the survey link as its reporter receives it."""
    reporter = f"1390077{next(company.next_phone):04d}"
    case = company.case(company.estate_id, phone=reporter, household=household)
    company.close(case["id"])
    link = wait_for(lambda: survey_link(platform, company.tenant_id, "+86" + reporter), timeout=30)
    return case, link, reporter


def league_row(platform, company):
    league = platform.http.get(platform.base_url + "/api/v1/public/survey-league").json()
    rows = [row for row in league["companies"] if row["tenant"] == company.tenant_id]
    return rows[0] if rows else None


def test_an_answer_without_a_session_is_recorded_but_the_league_is_unchanged(platform, world):
    case, link, _ = closed_case_link(platform, world, "5-5-501")
    assert answer(platform, link, 5).status_code == 200
    recorded = survey_of(platform, case["id"])
    assert (recorded.status, recorded.score, recorded.verified) == ("answered", 5, False)
    [own] = world.get("/api/v1/cases/" + case["id"] + "/surveys").json()["data"]
    assert (own["status"], own["verified"]) == ("answered", False)
    assert league_row(platform, world) is None
    [figures] = world.get("/api/v1/survey-statistics", params={"estate_id": world.estate_id}).json()["data"]
    assert figures["responses"] >= 1 and figures["unverified_responses"] == figures["responses"]


def test_a_phone_confirmed_in_another_household_or_only_claimed_or_without_the_pages_csrf_is_unverified(
    platform, world
):
    neighbour, claimant, member = "13900880001", "13900880002", "13900880003"
    confirm(platform, world.community, world.tenant_id, world.estate_id, ("5-5-509", neighbour), ("5-5-503", member))
    claim(platform, world.community, world.tenant_id, world.estate_id, "5-5-502", claimant)
    other_case, other_link, _ = closed_case_link(platform, world, "5-5-510")
    pending_case, pending_link, _ = closed_case_link(platform, world, "5-5-502")
    forged_case, forged_link, _ = closed_case_link(platform, world, "5-5-503")
    assert answer(platform, other_link, 5, sign_in(platform, neighbour)).status_code == 200
    assert answer(platform, pending_link, 5, sign_in(platform, claimant)).status_code == 200
    # Signed in, but the POST did not come from our page (no CSRF token): another site's form,
    # refused with nothing recorded.
    assert answer(platform, forged_link, 5, sign_in(platform, member), csrf=False).status_code == 403
    assert survey_of(platform, forged_case["id"]).status == "issued"
    # The same member from a page opened before signing in (the double-submit token only): unverified.
    member_browser = sign_in(platform, member).cookies
    assert post_form(platform, forged_link, {"score": "5"}, cookies=member_browser).status_code == 200
    for case in (other_case, pending_case, forged_case):
        assert survey_of(platform, case["id"]).verified is False
    assert league_row(platform, world) is None


def test_the_issues_attack_six_answers_of_five_from_different_browsers_leave_the_league_unchanged(platform, world):
    """The company holds the links (it typed the reporters' phones) and answers them itself."""
    links = [closed_case_link(platform, world, f"6-1-{601 + n}")[1] for n in range(6)]
    before = league_row(platform, world)
    for n, link in enumerate(links):
        assert answer(platform, link, 5, user_agent=f"Mozilla/5.0 attacker-{n}").status_code == 200
    assert league_row(platform, world) == before
    store = platform.store("surveys")
    try:
        with store.read() as session:
            assert tallies.stored(session, world.tenant_id) == statistics.recount(session, world.tenant_id)
            sums = {name: 0 for name in tallies.COUNTERS}
            for row in tallies.stored(session, world.tenant_id):
                sums = {name: sums[name] + row[name] for name in tallies.COUNTERS}
    finally:
        store.engine.dispose()
    assert sums["responses"] == 0 and sums["unverified_responses"] >= 6


def test_answers_of_phones_the_community_confirmed_in_the_household_move_the_league(platform, world):
    members = [(f"7-1-{701 + n}", f"1390099{n:04d}") for n in range(5)]
    confirm(platform, world.community, world.tenant_id, world.estate_id, *members)
    links = [closed_case_link(platform, world, household)[1] for household, _ in members]
    for n, (link, (_, phone)) in enumerate(zip(links, members, strict=True)):
        assert league_row(platform, world) is None, n  # withheld until five verified answers
        assert answer(platform, link, 4 + n % 2, sign_in(platform, phone), user_agent=f"phone-{n}").status_code == 200
    row = league_row(platform, world)
    assert row is not None and (row["responses"], row["csat"]) == (5, 1.0)
    page = platform.http.get(platform.base_url + f"/p/communities/{world.community}/league")
    assert page.status_code == 200


def test_a_signed_in_resident_answers_by_case_without_the_link(platform, world):
    """The resident pages' RPCs: resident_survey (never a token) and answer_for_case (the link's rules)."""
    reporter_case, link, reporter = closed_case_link(platform, world, "8-1-801")
    member = "13900660001"
    confirm(platform, world.community, world.tenant_id, world.estate_id, ("8-1-802", member))
    member_case, _, _ = closed_case_link(platform, world, "8-1-802")
    token = link.rsplit("/s/", 1)[1]
    with ServiceRpcProxy("surveys", platform.config("gateway")) as surveys:
        view = surveys.resident_survey(world.tenant_id, reporter_case["id"])
        assert token not in str(view) and "/s/" not in str(view)
        assert (view["status"], view["case_title"], view["household"]) == ("issued", "楼道灯不亮", "8-1-801")
        assert view["questions"]["version"] == 0 and view["survey_id"]
        stranger = {"verified": False, "phone": "+8613900660999"}
        with pytest.raises(NotFound):
            surveys.answer_for_case(world.tenant_id, reporter_case["id"], {"score": 3}, "fp", stranger)
        with pytest.raises(NotFound):
            surveys.resident_survey(world.tenant_id, "no-such-case")
        reporter_said = {"verified": False, "phone": "+86" + reporter}
        done = surveys.answer_for_case(world.tenant_id, reporter_case["id"], {"score": 3}, "fp", reporter_said)
        assert (done["status"], done["score"]) == ("answered", 3)
        with pytest.raises(Conflict):
            surveys.answer_for_case(world.tenant_id, reporter_case["id"], {"score": 5}, "fp", reporter_said)
        confirmed = {"verified": True, "phone_hash": "0" * 64, "phone": "+86" + member}
        surveys.answer_for_case(world.tenant_id, member_case["id"], {"score": 5}, "fp2", confirmed)
    assert survey_of(platform, reporter_case["id"]).verified is False
    assert survey_of(platform, member_case["id"]).verified is True
    assert answer(platform, link, 5).status_code == 409  # one answer per survey, by case or by link


def test_a_reopened_cases_survey_is_gone_for_the_resident_too(platform, world):
    case, _, reporter = closed_case_link(platform, world, "8-2-801")
    assert world.transition(case["id"], "reopen", note="还是坏的").status_code == 200
    wait_for(lambda: survey_of(platform, case["id"]).status == "voided")
    with ServiceRpcProxy("surveys", platform.config("gateway")) as surveys:
        assert surveys.resident_survey(world.tenant_id, case["id"])["status"] == "voided"
        with pytest.raises(Gone):
            surveys.answer_for_case(world.tenant_id, case["id"], {"score": 5}, None, {"phone": "+86" + reporter})


def test_the_resident_pages_answer_through_the_gateway_seam_and_only_a_member_is_verified(platform, world):
    """ResidentActions._answer_for_case_as: the gateway decides ``verified`` from the register."""
    member = "13900660101"
    confirm(platform, world.community, world.tenant_id, world.estate_id, ("8-3-801", member))
    member_case, _, _ = closed_case_link(platform, world, "8-3-801")
    reporter_case, _, reporter = closed_case_link(platform, world, "8-3-802")
    pages = Seams(platform)
    view = pages._resident_survey(world.tenant_id, member_case["id"])
    assert view["status"] == "issued" and "token" not in view
    pages._answer_for_case_as(sign_in(platform, member), world.tenant_id, member_case["id"], {"score": 5}, "fp-a")
    with pytest.raises(NotFound):  # a confirmed member of another household may not use this one's answer
        pages._answer_for_case_as(sign_in(platform, member), world.tenant_id, reporter_case["id"], {"score": 1}, "x")
    pages._answer_for_case_as(sign_in(platform, reporter), world.tenant_id, reporter_case["id"], {"score": 4}, "fp-b")
    assert survey_of(platform, member_case["id"]).verified is True
    assert survey_of(platform, reporter_case["id"]).verified is False  # the reporter is not in the register
