"""Owners' proposals over HTTP: a voting window, one vote per confirmed household, the result at closing.

Only residents vote, for the household the community's register gives them: a company key
cannot vote at all (it could otherwise vote for any household it names), and a resident app
votes only with its resident's sign-in token.
"""

from datetime import timedelta

import pytest

from services.common.db import utcnow
from services.gateway import tenants
from services.gateway.authorization import Forbidden
from services.gateway.residents import NOT_CONFIRMED
from services.requests import proposals
from tests.support.api import Api
from tests.support.people import Seams, claim, confirm, open_proposal, sign_in, tally

pytestmark = pytest.mark.integration

COMMUNITY = "政通路社区"  # the community of tests.conftest.new_company


def resident_app(platform, company, phone):
    """The company's resident app, acting for ``phone`` signed in through it."""
    with platform.store("gateway").transaction() as session:
        app = Api(platform, tenants.issue_key(session, company.tenant_id, role="resident_app"))
        key_id = tenants.authenticate(session, app.key)[1].id
    app.headers |= {"Lianxin-Resident": phone, "Lianxin-Resident-Token": sign_in(platform, phone, key_id).token}
    return app


def test_a_company_key_cannot_vote_for_households_it_names(platform, company):
    """The issue's attack: the company votes for 5-5-505 and 5-5-506 with its own keys."""
    proposal = open_proposal(company)
    with platform.store("gateway").transaction() as session:
        staff = Api(platform, tenants.issue_key(session, company.tenant_id, role="company_staff"))
    votes = f"/api/v1/proposals/{proposal['id']}/votes"
    for api in (company, staff):
        for household in ("5-5-505", "5-5-506"):
            refused = api.post(votes, {"household": household, "choice": "support"})
            assert refused.status_code == 403, refused.text
            assert refused.headers["Content-Type"] == "application/problem+json"
    assert tally(company, proposal) == {"support": 0, "oppose": 0, "abstain": 0}


def test_one_vote_per_confirmed_household_and_the_household_comes_from_the_register(platform, company):
    first, second, both, stranger, pending = "13900550001", "13900550002", "13900550003", "13900550004", "13900550005"
    confirm(
        platform, COMMUNITY, company.tenant_id, company.estate_id,
        ("5-5-505", first), ("5-5-505", second), ("3-2-501", both), ("3-2-502", both),
    )  # fmt: skip
    claim(platform, COMMUNITY, company.tenant_id, company.estate_id, "5-5-507", pending)
    proposal = open_proposal(company)
    votes = f"/api/v1/proposals/{proposal['id']}/votes"

    voted = resident_app(platform, company, first).post(votes, {"choice": "support"})
    assert voted.status_code == 201, voted.text
    assert voted.json()["household"] == "5-5-505"
    again = resident_app(platform, company, second).post(votes, {"choice": "oppose"})
    assert again.status_code == 409 and again.json()["detail"] == "本户已投票 (household 5-5-505 has already voted)"
    assert tally(company, proposal) == {"support": 1, "oppose": 0, "abstain": 0}  # the first vote stands

    for phone in (stranger, pending):  # not confirmed, or only claimed
        refused = resident_app(platform, company, phone).post(votes, {"household": "5-5-507", "choice": "oppose"})
        assert (refused.status_code, refused.json()["detail"]) == (403, NOT_CONFIRMED)
    several = resident_app(platform, company, both)
    assert list(several.post(votes, {"choice": "oppose"}).json()["errors"]) == ["household"]
    assert list(several.post(votes, {"household": "5-5-505", "choice": "oppose"}).json()["errors"]) == ["household"]
    assert several.post(votes, {"household": "3-2-502", "choice": "oppose"}).json()["household"] == "3-2-502"
    assert list(several.post(votes, {"household": "3-2-501", "choice": "maybe"}).json()["errors"]) == ["choice"]

    # The app's word for the resident is not enough: it needs the resident's own sign-in token.
    named = resident_app(platform, company, both)
    del named.headers["Lianxin-Resident-Token"]
    assert named.post(votes, {"household": "3-2-501", "choice": "support"}).status_code == 401
    browser_session = sign_in(platform, both).token  # a browser's session is not the app's
    named.headers["Lianxin-Resident-Token"] = browser_session
    assert named.post(votes, {"household": "3-2-501", "choice": "support"}).status_code == 401
    assert tally(company, proposal) == {"support": 1, "oppose": 1, "abstain": 0}


def test_the_resident_pages_vote_through_the_same_rule(platform, company, second_company):
    member, outsider = "13900560001", "13900560002"
    confirm(platform, COMMUNITY, company.tenant_id, company.estate_id, ("9-1-901", member))
    proposal = open_proposal(company)
    pages = Seams(platform)
    ballot = pages._vote_as_resident(sign_in(platform, member), company.tenant_id, proposal["id"], "abstain")
    assert (ballot["household"], ballot["choice"]) == ("9-1-901", "abstain")
    with pytest.raises(Forbidden):
        pages._vote_as_resident(sign_in(platform, outsider), company.tenant_id, proposal["id"], "support")
    with pytest.raises(Exception) as elsewhere:  # another company's proposal is not found
        pages._vote_as_resident(sign_in(platform, member), second_company.tenant_id, proposal["id"], "support")
    assert type(elsewhere.value).__name__ == "NotFound"
    assert tally(company, proposal) == {"support": 0, "oppose": 0, "abstain": 1}


def test_the_window_closes_once_and_counts(platform, company):
    voters = [("4-1-401", "13900570001", "support"), ("4-1-402", "13900570002", "oppose"), ("4-1-403", "13900570003")]
    confirm(platform, COMMUNITY, company.tenant_id, company.estate_id, *[(h, p) for h, p, *_ in voters])
    proposal = open_proposal(company)
    votes = f"/api/v1/proposals/{proposal['id']}/votes"
    for _, phone, *choice in voters[:2]:
        assert resident_app(platform, company, phone).post(votes, {"choice": choice[0]}).status_code == 201
    assert resident_app(platform, company, voters[2][1]).post(votes, {"choice": "support"}).status_code == 201
    too_long = company.post(
        "/api/v1/proposals",
        {"estate_id": company.estate_id, "title": "x", "description": "y", "closes_at": "2099-01-01T00:00:00Z"},
    )
    assert list(too_long.json()["errors"]) == ["closes_at"]

    # The timer's work, run as the timer runs it, a week on: closed once, with the result.
    emitted = []
    with platform.store("requests").transaction() as session:
        closed = proposals.close_due(session, lambda *event: emitted.append(event), utcnow() + timedelta(days=8))
    assert closed >= 1
    with platform.store("requests").transaction() as session:
        assert proposals.close_due(session, lambda *event: emitted.append(event), utcnow() + timedelta(days=8)) == 0
    final = company.get(f"/api/v1/proposals/{proposal['id']}").json()
    assert (final["status"], final["outcome"], final["tally"]) == (
        "closed",
        "passed",
        {"support": 2, "oppose": 1, "abstain": 0},
    )
    late = resident_app(platform, company, "13900570001").post(votes, {"choice": "oppose"})
    assert late.status_code == 409
    listed = company.get("/api/v1/proposals", params={"estate_id": company.estate_id, "status": "closed"}).json()
    assert [p["id"] for p in listed["data"]] == [proposal["id"]]
