"""Every state-changing form of the pages carries a CSRF token and is refused 403 without it.

Issue 18: the supervisor's (key) sign-in and sign-out, since replaced by the workbench's phone
sign-in, and a survey answered through its link took forms without any token. Signed-in forms
check the session's token; forms posted before (or without) a session use the double-submit
``lx_csrf`` cookie (services/gateway/csrf.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.support.infra import wait_for
from tests.support.people import signed_in_browser, staff_browser, survey_link
from tests.support.probes import post_page_routes
from tests.support.settings import PUBLIC_HOOK, settings_of

pytestmark = pytest.mark.integration

PAGES = Path(__file__).resolve().parents[2] / "services/gateway/pages"
FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
CLAIM = "c" * 26  # made up
COMMUNITY = "政通路社区"  # the victim company's (tests.support.api.new_company)
HIDDEN_CSRF = '<input type="hidden" name="csrf" value="{{ csrf }}">'


@pytest.mark.unit
def test_every_post_form_of_every_template_carries_the_token_unconditionally():
    forms = {}
    for template in sorted(PAGES.glob("*.html")):
        for n, body in enumerate(FORM.findall(template.read_text(encoding="utf-8"))):
            forms[f"{template.name}#{n}"] = body
    assert len(forms) >= 15, "the walk found too few forms to prove anything"
    tokens = (HIDDEN_CSRF, '<input type="hidden" name="csrf" value="{{ form_csrf }}">')
    without = [name for name, body in forms.items() if not any(token in body for token in tokens)]
    assert without == []
    # A token inside {% if %} is no token for a browser that is not signed in (the survey link's form was so).
    conditional = [name for name, body in forms.items() if re.search(r"{%\s*if[^%]*%}\s*<input[^>]*csrf", body)]
    assert conditional == []


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def memberships(platform, tenant_id: str) -> list:
    from services.gateway import staff

    with platform.store("gateway").read() as session:
        return sorted((m.id, m.role) for m in staff.members(session, tenant_id=tenant_id))  # the live ones


def test_every_page_form_without_its_token_is_refused_403_and_changes_nothing(platform, victim):
    base, ids = platform.base_url, victim.ids
    estate, case, visit = ids["estate_id"], ids["case_id"], ids["visit_id"]
    clerk = staff_browser(platform, victim.tenant_id, "company_staff")
    admin = staff_browser(platform, victim.tenant_id, "company_admin")
    link = wait_for(lambda: survey_link(platform, victim.tenant_id, "+8613912349001"))
    resident = signed_in_browser(platform, "13912349001")
    volunteer = signed_in_browser(platform, victim.volunteers[0]["phone"])
    supervisor = staff_browser(platform, None, "supervisor", community=COMMUNITY)
    anonymous = browser()
    hook = victim.post("/api/v1/webhooks", {"url": PUBLIC_HOOK, "event_types": ["case.closed"]}).json()["id"]
    key = victim.post("/api/v1/keys", {"role": "company_staff"}).json()["id"]
    # Each form route, who posts it, and what it would have changed.
    posts = {
        "/signin/code": (anonymous, "/signin/code", {"phone": "13912349002"}),
        "/signin": (anonymous, "/signin", {"phone": "13912349002", "code": "123456"}),
        "/signout": (resident, "/signout", {}),
        "/s/<string:token>": (anonymous, link.removeprefix(base), {"score": "1", "comment": "伪造"}),
        "/e/<string:estate_id>/households": (resident, f"/e/{estate}/households", {"household": "1-1-101"}),
        "/e/<string:estate_id>/report": (resident, f"/e/{estate}/report", {"category": "repair", "title": "x"}),
        "/me/cases/<string:case_id>/replies": (resident, f"/me/cases/{case}/replies", {"body": "伪造"}),
        "/me/cases/<string:case_id>/survey": (resident, f"/me/cases/{case}/survey", {"score": "1"}),
        "/e/<string:estate_id>/proposals/<string:proposal_id>/vote": (
            resident,
            f"/e/{estate}/proposals/{ids['proposal_id']}/vote",
            {"choice": "oppose"},
        ),
        "/e/<string:estate_id>/activities/<string:activity_id>/signup": (
            resident,
            f"/e/{estate}/activities/{ids['activity_id']}/signup",
            {},
        ),
        "/e/<string:estate_id>/activities/<string:activity_id>/signups/<string:signup_id>/cancel": (
            resident,
            f"/e/{estate}/activities/{ids['activity_id']}/signups/{'s' * 26}/cancel",
            {},
        ),
        "/v/visits/<string:visit_id>/accept": (volunteer, f"/v/visits/{visit}/accept", {}),
        "/v/visits/<string:visit_id>/complete": (volunteer, f"/v/visits/{visit}/complete", {"outcome": "unsatisfied"}),
        "/v/visits/<string:visit_id>/decline": (volunteer, f"/v/visits/{visit}/decline", {"reason": "伪造"}),
        "/workbench/cases/<string:case_id>/comments": (
            clerk,
            f"/workbench/cases/{case}/comments",
            {"body": "伪造", "visibility": "public"},
        ),
        "/workbench/cases/<string:case_id>/transitions": (
            clerk,
            f"/workbench/cases/{case}/transitions",
            {"action": "reject", "note": "伪造"},
        ),
        "/workbench/incidents": (
            clerk,
            "/workbench/incidents",
            {"estate_id": estate, "kind": "water", "title": "伪造", "body": "伪造", "severity": "critical"},
        ),
        "/workbench/incidents/<string:incident_id>/updates": (
            clerk,
            f"/workbench/incidents/{ids['incident_id']}/updates",
            {"body": "伪造"},
        ),
        "/workbench/incidents/<string:incident_id>/cases": (
            clerk,
            f"/workbench/incidents/{ids['incident_id']}/cases",
            {"case_ids": case},
        ),
        "/workbench/incidents/<string:incident_id>/resolve": (
            clerk,
            f"/workbench/incidents/{ids['incident_id']}/resolve",
            {"resolution": "伪造"},
        ),
        "/workbench/broadcasts": (
            clerk,
            "/workbench/broadcasts",
            {"estate_id": estate, "title": "伪造", "body": "伪造"},
        ),
        "/workbench/settings/staff": (
            admin,
            "/workbench/settings/staff",
            {"phone": "13912349003", "name": "伪造", "role": "company_admin"},
        ),
        "/workbench/branch/cases/<string:case_id>/instructions": (
            supervisor,
            f"/workbench/branch/cases/{case}/instructions",
            {"body": "伪造"},
        ),
        # made-up claims: the token is checked before anything is looked up
        "/workbench/branch/claims/<string:claim_id>/confirm": (
            supervisor,
            f"/workbench/branch/claims/{'c' * 26}/confirm",
            {},
        ),
        "/workbench/branch/claims/<string:claim_id>/reject": (
            supervisor,
            f"/workbench/branch/claims/{'c' * 26}/reject",
            {},
        ),
        "/workbench/switch": (clerk, "/workbench/switch", {"membership": clerk.member.id}),
        "/workbench/settings/staff/<string:membership_id>/revoke": (
            admin,
            f"/workbench/settings/staff/{clerk.member.id}/revoke",
            {},
        ),
        "/workbench/settings/categories": (
            admin,
            "/workbench/settings/categories",
            {"code": "forged", "name": "伪造", "response_hours": "1", "resolution_hours": "2"},
        ),
        "/workbench/settings/categories/<string:code>": (
            admin,
            "/workbench/settings/categories/repair",
            {"response_hours": "9", "resolution_hours": "99"},
        ),
        "/workbench/settings/notifications": (
            admin,
            "/workbench/settings/notifications",
            {"company_name": "伪造", "quiet_start": "00:00", "quiet_end": "23:59"},
        ),
        "/workbench/settings/surveys": (
            admin,
            "/workbench/settings/surveys",
            {"link_delay_minutes": "0", "expiry_days": "1", "reminder_after_hours": "1"},
        ),
        "/workbench/settings/keys": (admin, "/workbench/settings/keys", {"role": "company_admin"}),
        "/workbench/settings/keys/<string:key_id>/revoke": (admin, f"/workbench/settings/keys/{key}/revoke", {}),
        "/workbench/settings/webhooks": (
            admin,
            "/workbench/settings/webhooks",
            {"url": PUBLIC_HOOK, "event_types": ["case.submitted"]},
        ),
        "/workbench/settings/webhooks/<string:webhook_id>/delete": (
            admin,
            f"/workbench/settings/webhooks/{hook}/delete",
            {},
        ),
        "/workbench/settings/webhooks/<string:webhook_id>/enable": (
            admin,
            f"/workbench/settings/webhooks/{hook}/enable",
            {},
        ),
        "/workbench/settings/webhooks/<string:webhook_id>/secret": (
            admin,
            f"/workbench/settings/webhooks/{hook}/secret",
            {},
        ),
        "/workbench/volunteers": (
            clerk,
            "/workbench/volunteers",
            {"name": "伪造", "phone": "13912349004", "estate_ids": estate},
        ),
        "/workbench/volunteers/<string:volunteer_id>": (
            clerk,
            f"/workbench/volunteers/{ids['volunteer_id']}",
            {"name": "伪造", "estate_ids": estate},
        ),
        "/workbench/teams": (
            clerk,
            "/workbench/teams",
            {"name": "伪造", "leader_id": ids["volunteer_id"]},
        ),
        "/workbench/teams/<string:team_id>": (clerk, f"/workbench/teams/{ids['team_id']}", {"name": "伪造"}),
        "/workbench/teams/<string:team_id>/members": (
            clerk,
            f"/workbench/teams/{ids['team_id']}/members",
            {"volunteer_id": victim.volunteers[1]["id"]},
        ),
        "/workbench/teams/<string:team_id>/members/<string:volunteer_id>/remove": (
            clerk,
            f"/workbench/teams/{ids['team_id']}/members/{victim.volunteers[1]['id']}/remove",
            {},
        ),
        "/workbench/activities": (
            clerk,
            "/workbench/activities",
            {
                "title": "伪造",
                "kind": "other",
                "estate_id": estate,
                "place": "伪造",
                "capacity": "1",
                "starts_at": "2099-02-01T09:00",
                "ends_at": "2099-02-01T10:00",
            },
        ),  # fmt: skip
        "/workbench/activity-series": (
            clerk,
            "/workbench/activity-series",
            {
                "title": "伪造",
                "kind": "other",
                "estate_id": estate,
                "place": "伪造",
                "capacity": "1",
                "weekday": "0",
                "start": "09:00",
                "end": "10:00",
                "starts_on": "2099-02-01",
            },
        ),  # fmt: skip
        "/workbench/activities/<string:activity_id>/publish": (
            clerk,
            f"/workbench/activities/{ids['activity_id']}/publish",
            {},
        ),
        "/workbench/activities/<string:activity_id>/cancel": (
            clerk,
            f"/workbench/activities/{ids['activity_id']}/cancel",
            {"reason": "伪造"},
        ),
        "/workbench/activities/<string:activity_id>/shifts/<string:shift_id>/volunteers": (
            clerk,
            f"/workbench/activities/{ids['activity_id']}/shifts/{ids['shift_id']}/volunteers",
            {"volunteer_id": victim.volunteers[1]["id"]},
        ),
        "/workbench/activities/<string:activity_id>/attendance": (
            clerk,
            f"/workbench/activities/{ids['activity_id']}/attendance",
            {"resident": ids["signup_id"], "resident_came": ids["signup_id"]},
        ),
    }
    assert set(posts) == post_page_routes(), "a new form route: add it here"

    def state():
        """What the forms would change (other tests of the package may have moved it before)."""
        return (
            victim.get(f"/api/v1/cases/{case}/surveys").json()["data"][0]["status"],
            victim.get(f"/api/v1/cases/{case}/comments").json()["data"],
            victim.get(f"/api/v1/cases/{case}/visits").json()["data"][0]["status"],
            victim.get(f"/api/v1/proposals/{ids['proposal_id']}").json(),
            victim.get("/api/v1/cases", params={"estate_id": estate, "limit": 100}).json()["data"],
            memberships(platform, victim.tenant_id),
            victim.get(f"/api/v1/incidents/{ids['incident_id']}").json(),
            victim.get("/api/v1/broadcasts").json()["data"],
            settings_of(victim),
            victim.get("/api/v1/volunteers").json()["data"],
            victim.get("/api/v1/teams").json()["data"],
            victim.get("/api/v1/activities").json()["data"],
            victim.get(f"/api/v1/activities/{ids['activity_id']}/signups").json()["data"],
        )

    before = state()
    for rule, (who, path, form) in posts.items():
        for token in ("", "forged-" + "x" * 30):  # none, and one that matches nothing the browser holds
            refused = who.post(base + path, data=form | ({"csrf": token} if token else {}), allow_redirects=False)
            assert refused.status_code == 403, (rule, token, refused.status_code)
            assert "lx_session" not in refused.headers.get("Set-Cookie", ""), rule
    # Nothing changed: no answer, reply, visit outcome, vote or case; the resident and the
    # supervisor are still signed in.
    assert state() == before
    assert "伪造" not in str(before)
    assert resident.get(base + "/me", allow_redirects=False).status_code == 200
    assert supervisor.get(base + "/workbench/branch", allow_redirects=False).status_code == 200
    assert clerk.get(base + "/workbench", allow_redirects=False).status_code == 200


def test_the_survey_link_page_gives_an_anonymous_browser_a_token_that_works(platform, company):
    from tests.support.people import survey_link as link_of

    case = company.case(company.estate_id, phone="13912349011")
    company.close(case["id"])
    link = wait_for(lambda: link_of(platform, company.tenant_id, "+8613912349011"))
    resident = browser()
    page = resident.get(link)
    given = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert given is not None, "the survey page gives a browser that is not signed in no token"
    token = given.group(1)
    assert resident.cookies["lx_csrf"] == token
    assert page.headers["Cache-Control"] == "no-store"  # this browser's token: no shared cache may keep it
    assert resident.post(link, data={"score": "5", "csrf": token}).status_code == 200
