"""Nothing a company key can call reads a survey token, answers a survey or casts a vote.

The company is what residents rate and what owners vote on. Every GET of ``/openapi.json`` a
company can call (those the authorization table opens to ``company_admin`` or ``company_staff``,
and the public ones), every page of it, and then every write the table opens to those roles,
is called with each company key and the ids of a real closed case whose survey link went out
(and of an open proposal): no answer may carry the live token or an unredacted ``/s/`` link —
the service's own redaction does it, nothing here scrubs — and afterwards no survey is answered
and no vote is cast. A new route is walked the day it is documented.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from services.gateway import tenants
from services.gateway.authorization import POLICY
from services.gateway.openapi import spec
from services.requests.models import ProposalVote
from services.surveys.models import Survey
from tests.support.api import Api
from tests.support.infra import wait_for
from tests.support.people import survey_link
from tests.support.probes import one_of_everything, pages, send

pytestmark = pytest.mark.integration

REPORTER = "+8613912349001"  # the reporter of one_of_everything's case
COMPANY_ROLES = ("company_admin", "company_staff")
LIST_PARAMS = {"/api/v1/notifications": {"phone": REPORTER}, "/api/v1/inbox": {"phone": REPORTER}}
# The company may see "/s/***" (and the docs "/s/{token}"), never a link that works.
UNREDACTED_LINK = re.compile(r"/s/[A-Za-z0-9_\-]{8,}")

# Ids of the public pages' paths that are not a tenant's record.
PUBLIC_IDS = {"community": "政通路社区", "name": "workbench.css"}
# The resident's link itself: whoever holds the token sees its page (that is what the link is for).
THE_LINK = "/s/{token}"


def company_gets():
    """(role, path) of every documented GET a company can call: with its key if the table lets it, public ones."""
    for path, operations in sorted(spec()["paths"].items()):
        if "get" not in operations or path == THE_LINK:
            continue
        public = not operations["get"].get("security")
        for role in COMPANY_ROLES:
            if public or role in POLICY[("GET", path)]:
                yield role, path


GETS = list(company_gets())
# Everything that changes something (a reopen, say), each with both company roles: after the reads.
ROUTES = sorted(
    (role, method, path)
    for (method, path), roles in POLICY.items()
    if method != "GET"
    for role in COMPANY_ROLES
    if role in roles
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
    read = {path for _, path in GETS}
    assert {"/api/v1/cases/{case_id}/surveys", "/api/v1/inbox", "/api/v1/notifications", "/me/inbox"} <= read
    assert ("POST", "/api/v1/proposals/{proposal_id}/votes") not in {(m, p) for _, m, p in ROUTES}  # residents only


@pytest.mark.parametrize(("role", "path"), GETS)
def test_no_get_a_company_can_call_shows_a_live_survey_token(platform, target, role, path):
    assert platform.http.get(platform.base_url + f"/s/{target.token}").status_code == 200  # the token is live
    refusals = (401, 403) if ("GET", path) in POLICY else ()  # a public page may want a signed-in person
    for response in pages(target.keys[role], path, LIST_PARAMS.get(path, {}), target.ids | PUBLIC_IDS):
        assert response.status_code < 500 and response.status_code not in refusals, (role, path, response.text[:300])
        assert target.token not in response.text, (role, path)
        assert not UNREDACTED_LINK.search(response.text), (role, path, response.text[:500])


@pytest.mark.parametrize(("role", "method", "path"), ROUTES)
def test_no_write_a_company_can_call_shows_the_survey_token(platform, target, role, method, path):
    response = send(target.keys[role], method, path, target.ids)
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
