"""Nothing a company key can call reads a survey token, answers a survey or casts a vote.

The company is what residents rate and what owners vote on. Every route the authorization
table opens to ``company_admin`` or ``company_staff`` is called here with that key and the ids
of a real closed case whose survey link went out (and of an open proposal): no answer may
carry the token or an unredacted ``/s/`` link, and afterwards no survey is answered and no
vote is cast. The routes come from the table itself, so a new one is walked the day it is added.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services.gateway import tenants
from services.gateway.authorization import POLICY
from services.requests.models import ProposalVote
from services.surveys.models import Survey
from tests.support.api import Api
from tests.support.infra import wait_for
from tests.support.people import survey_link
from tests.support.probes import BODIES, one_of_everything

pytestmark = pytest.mark.integration

REPORTER = "+8613912349001"  # the reporter of one_of_everything's case
COMPANY_ROLES = ("company_admin", "company_staff")
LIST_PARAMS = {"/api/v1/notifications": {"phone": REPORTER}, "/api/v1/inbox": {"phone": REPORTER}}
UNREDACTED_LINK = re.compile(r"/s/(?!\*\*\*)")  # the company may see "/s/***", never a link that works

# Reads first, then everything that changes something (a reopen, say), each with both company roles.
ROUTES = sorted(
    ((role, method, path) for (method, path), roles in POLICY.items() for role in COMPANY_ROLES if role in roles),
    key=lambda r: (r[1] != "GET", r[1], r[2], r[0]),
)


@pytest.fixture(scope="module")
def target(platform):
    """A company with one of everything, its survey token as the resident received it, a key per role."""
    company = one_of_everything(platform)
    link = wait_for(lambda: survey_link(platform, company.tenant_id, REPORTER), timeout=30)
    with platform.store("gateway").transaction() as session:
        staff = Api(platform, tenants.issue_key(session, company.tenant_id, role="company_staff"))
    company.token = link.rsplit("/s/", 1)[1]
    company.keys = {"company_admin": company, "company_staff": staff}
    return company


def test_the_walk_covers_the_routes_that_would_matter():
    walked = {(method, path) for _, method, path in ROUTES}
    assert ("GET", "/api/v1/cases/{case_id}/surveys") in walked and ("GET", "/api/v1/inbox") in walked
    assert ("POST", "/api/v1/proposals/{proposal_id}/votes") not in walked  # residents only


@pytest.mark.parametrize(("role", "method", "path"), ROUTES)
def test_no_company_callable_route_shows_the_survey_token(platform, target, role, method, path):
    api = target.keys[role]
    body = BODIES.get((method, path), {}) if method != "GET" else None
    response = platform.http.request(
        method,
        platform.base_url + path.format(**target.ids),
        json=body,
        params=LIST_PARAMS.get(path),
        headers=api.headers,
        timeout=15,
    )
    assert response.status_code not in (401, 403, 500), (role, method, path, response.text)
    assert target.token not in response.text, (role, method, path)
    assert not UNREDACTED_LINK.search(response.text), (role, method, path, response.text[:500])


def test_a_company_key_cannot_vote_even_naming_households(platform, target):
    votes = f"/api/v1/proposals/{target.ids['proposal_id']}/votes"
    for api in target.keys.values():
        for household in ("5-5-505", "5-5-506", "1-1-101"):
            assert api.post(votes, {"household": household, "choice": "support"}).status_code == 403


def test_after_the_walk_no_survey_was_answered_and_no_vote_was_cast(platform, target):
    surveys, requests = platform.store("surveys"), platform.store("requests")
    try:
        with surveys.read() as session:
            answered = session.scalar(
                select(func.count())
                .select_from(Survey)
                .where(Survey.tenant == target.tenant_id, Survey.answered_at.is_not(None))
            )
        with requests.read() as session:
            cast = session.scalar(
                select(func.count())
                .select_from(ProposalVote)
                .where(ProposalVote.proposal_id == target.ids["proposal_id"])
            )
    finally:
        surveys.engine.dispose()
        requests.engine.dispose()
    assert (answered, cast) == (0, 0)
    # And the link still works for the resident (unless the walk's reopen voided it: then it says so).
    page = platform.http.get(platform.base_url + f"/s/{target.token}")
    assert page.status_code == 200 and ("满意度评价" in page.text or "问卷已作废" in page.text)
