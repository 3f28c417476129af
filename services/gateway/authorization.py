"""Who may call what: every authenticated endpoint's rule, in one table.

Roles of an API key:
- ``company_admin``: everything of its own company, including its keys.
- ``company_staff``: the daily work of its company (cases, visits, volunteers, notices), not keys.
- ``supervisor``: the community party branch (红色物业): reads every company of its community
  through the community routes, adds instructions and escalates; changes nothing else.
- ``resident_app``: an app acting for one resident, only with that resident's consent. The
  platform operator issues these keys (``lianxin app-key issue``), never a company (``POST
  /api/v1/keys`` refuses the role). The resident signs in *through the app* with a one-time
  code sent to their phone (``POST /api/v1/sign-in/code``, ``POST /api/v1/sign-in``); the app
  then sends the resident's token as ``Lianxin-Resident-Token`` beside its key, and the
  resident's phone comes from that token alone. Without a live token every route is 401. It
  submits cases (reporter phone forced to the resident's), reads only that resident's cases
  and inbox, and the estates, categories, board and calendar. It votes only for the household
  the community confirmed for its resident (:mod:`services.gateway.residents`).

No company key answers a survey or votes: the company is what residents rate and what owners
vote on, and it types reporters' phones itself. Votes and ratings that count come from
residents the community's register vouches for (:mod:`services.gateway.register`).

People who sign in themselves in a browser (residents, volunteers) use no key at all: the
``lx_session`` cookie of :mod:`services.gateway.people`; their pages check it themselves.

A route missing from :data:`POLICY` is refused to every role (and a unit test fails), so a new
endpoint cannot be open by accident. A route in it is authenticated and checked here by the
endpoint itself (:mod:`services.gateway.authentication`), before its body or its
``Idempotency-Key`` is looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.errors import LianxinError

ROLES = ("company_admin", "company_staff", "supervisor", "resident_app")

ADMIN = frozenset({"company_admin"})
COMPANY = frozenset({"company_admin", "company_staff"})
RESIDENT_APP = frozenset({"resident_app"})
COMPANY_AND_RESIDENT = COMPANY | RESIDENT_APP
SUPERVISION = frozenset({"supervisor"})
RESIDENT_APP = frozenset({"resident_app"})
EVERY_ROLE = frozenset(ROLES)


class Unauthorized(LianxinError):
    status = 401
    title = "Unauthorized"


class Forbidden(LianxinError):
    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the tenant, the key's role, and for a resident app the resident."""

    tenant: str
    actor: str
    role: str
    key_id: str
    community: str | None = None
    resident_phone: str | None = None  # only ever from the resident's own session token
    person_session: str | None = None  # that session's id (an app signs its resident out with it)
    person: str | None = None  # that resident's person id (one per phone, whichever session)


# (method, path as documented in /openapi.json) → the roles that may call it.
POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/estates"): ADMIN,
    ("GET", "/api/v1/estates"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/cases"): COMPANY_AND_RESIDENT,
    ("GET", "/api/v1/cases"): COMPANY_AND_RESIDENT,
    ("GET", "/api/v1/cases/{case_id}"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/cases/{case_id}/transitions"): COMPANY,
    ("GET", "/api/v1/cases/{case_id}/visits"): COMPANY,
    ("GET", "/api/v1/cases/{case_id}/surveys"): COMPANY,
    ("POST", "/api/v1/volunteers"): COMPANY,
    ("GET", "/api/v1/volunteers"): COMPANY,
    ("POST", "/api/v1/visits/{visit_id}/complete"): COMPANY,
    # The case desk (services/gateway/routes/cases.py): categories, search, audit, comments,
    # incidents, proposals, the board; the community routes are the party branch's.
    ("PATCH", "/api/v1/cases/{case_id}"): COMPANY,
    ("GET", "/api/v1/case-counts"): COMPANY,
    ("GET", "/api/v1/cases/{case_id}/audit"): COMPANY,
    ("POST", "/api/v1/cases/{case_id}/comments"): COMPANY_AND_RESIDENT,
    ("GET", "/api/v1/cases/{case_id}/comments"): COMPANY,
    ("GET", "/api/v1/case-categories"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/case-categories"): ADMIN,
    ("GET", "/api/v1/community/cases"): SUPERVISION,
    ("GET", "/api/v1/community/cases/{case_id}"): SUPERVISION,
    ("POST", "/api/v1/community/cases/{case_id}/instructions"): SUPERVISION,
    # The community's household register (services/gateway/routes/households.py).
    ("POST", "/api/v1/community/households/imports"): SUPERVISION,
    ("GET", "/api/v1/community/households"): SUPERVISION,
    ("GET", "/api/v1/community/household-claims"): SUPERVISION,
    ("POST", "/api/v1/community/household-claims/{claim_id}/confirm"): SUPERVISION,
    ("POST", "/api/v1/community/household-claims/{claim_id}/reject"): SUPERVISION,
    ("POST", "/api/v1/incidents"): COMPANY,
    ("GET", "/api/v1/incidents"): COMPANY,
    ("GET", "/api/v1/incidents/{incident_id}"): COMPANY,
    ("POST", "/api/v1/incidents/{incident_id}/updates"): COMPANY,
    ("POST", "/api/v1/incidents/{incident_id}/cases"): COMPANY,
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): COMPANY,
    ("POST", "/api/v1/proposals"): COMPANY,
    ("GET", "/api/v1/proposals"): COMPANY_AND_RESIDENT,
    ("GET", "/api/v1/proposals/{proposal_id}"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/proposals/{proposal_id}/votes"): RESIDENT_APP,  # never a company key: see the docstring
    ("GET", "/api/v1/estates/{estate_id}/board"): COMPANY_AND_RESIDENT,
    ("GET", "/api/v1/estates/{estate_id}/qr.svg"): COMPANY,  # the poster staff print (resident pages)
    # Photos of cases (services/gateway/routes/photos.py): the company's staff only; residents
    # send theirs with the case through the resident's pages, and see published ones at /p/….
    ("GET", "/api/v1/cases/{case_id}/photos"): COMPANY,
    ("POST", "/api/v1/cases/{case_id}/photos"): COMPANY,
    ("GET", "/api/v1/cases/{case_id}/photos/{photo_id}"): COMPANY,
    ("POST", "/api/v1/cases/{case_id}/photos/{photo_id}/publish"): COMPANY,
    ("POST", "/api/v1/cases/{case_id}/photos/{photo_id}/unpublish"): COMPANY,
    # Volunteers, teams, visits, hours and activities (services/gateway/routes/volunteers.py).
    ("GET", "/api/v1/volunteers/{volunteer_id}"): COMPANY,
    ("PATCH", "/api/v1/volunteers/{volunteer_id}"): COMPANY,
    ("GET", "/api/v1/volunteers/{volunteer_id}/schedule"): COMPANY,
    ("POST", "/api/v1/teams"): COMPANY,
    ("GET", "/api/v1/teams"): COMPANY,
    ("GET", "/api/v1/teams/{team_id}"): COMPANY,
    ("PATCH", "/api/v1/teams/{team_id}"): COMPANY,
    ("POST", "/api/v1/teams/{team_id}/members"): COMPANY,
    ("DELETE", "/api/v1/teams/{team_id}/members/{volunteer_id}"): COMPANY,
    ("POST", "/api/v1/visits/{visit_id}/decline"): COMPANY,
    ("GET", "/api/v1/hours"): COMPANY,
    ("GET", "/api/v1/hours/totals"): COMPANY,
    ("GET", "/api/v1/hours/ranking"): COMPANY,
    ("POST", "/api/v1/hours/corrections"): COMPANY,
    ("POST", "/api/v1/activities"): COMPANY,
    ("GET", "/api/v1/activities"): COMPANY,
    ("POST", "/api/v1/activity-series"): COMPANY,
    ("GET", "/api/v1/activities/{activity_id}"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/publish"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/cancel"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/signups"): COMPANY,
    ("GET", "/api/v1/activities/{activity_id}/signups"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/signups/{signup_id}/cancel"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/shifts/{shift_id}/signups"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/shift-signups/{signup_id}/cancel"): COMPANY,
    ("POST", "/api/v1/activities/{activity_id}/attendance"): COMPANY,
    ("GET", "/api/v1/estates/{estate_id}/calendar"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/contacts"): COMPANY,
    ("GET", "/api/v1/notifications"): COMPANY,
    ("POST", "/api/v1/notifications"): COMPANY,
    ("GET", "/api/v1/notifications/{notification_id}"): COMPANY,
    ("GET", "/api/v1/contacts/{contact_id}"): COMPANY,
    ("POST", "/api/v1/contact-imports"): COMPANY,
    ("PUT", "/api/v1/contacts/{contact_id}/preferences"): COMPANY,
    ("GET", "/api/v1/inbox"): COMPANY_AND_RESIDENT,
    ("POST", "/api/v1/inbox/{message_id}/read"): COMPANY,
    ("POST", "/api/v1/broadcasts"): COMPANY,
    ("GET", "/api/v1/broadcasts"): COMPANY,
    ("GET", "/api/v1/broadcasts/{broadcast_id}"): COMPANY,
    ("GET", "/api/v1/notification-settings"): COMPANY,
    ("PUT", "/api/v1/notification-settings"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/enable"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): ADMIN,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/secret"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMIN,
    ("GET", "/api/v1/survey-settings"): COMPANY,
    ("PUT", "/api/v1/survey-settings"): ADMIN,
    ("GET", "/api/v1/survey-templates"): COMPANY,
    ("POST", "/api/v1/survey-templates"): ADMIN,
    ("GET", "/api/v1/survey-statistics"): COMPANY,
    ("GET", "/api/v1/case-statistics"): COMPANY,
    ("POST", "/api/v1/survey-campaigns"): COMPANY,
    ("GET", "/api/v1/survey-campaigns"): COMPANY,
    ("GET", "/api/v1/survey-campaigns/{campaign_id}"): COMPANY,
    ("GET", "/api/v1/keys"): ADMIN,
    ("POST", "/api/v1/keys"): ADMIN,
    ("POST", "/api/v1/keys/{key_id}/revoke"): ADMIN,
    ("GET", "/api/v1/me"): EVERY_ROLE,
    # An app signs its resident in with a one-time code (services/gateway/people.py).
    ("POST", "/api/v1/sign-in/code"): RESIDENT_APP,
    ("POST", "/api/v1/sign-in"): RESIDENT_APP,
    ("DELETE", "/api/v1/sign-in"): RESIDENT_APP,
    ("GET", "/open311/v2/services.{format}"): COMPANY,
    ("GET", "/open311/v2/services/{service_code}.{format}"): COMPANY,
    ("POST", "/open311/v2/requests.{format}"): COMPANY,
    ("GET", "/open311/v2/requests.{format}"): COMPANY,
    ("GET", "/open311/v2/requests/{service_request_id}.{format}"): COMPANY,
}


# The routes an app key calls before its resident has a token: the key alone is enough there.
WITHOUT_RESIDENT: frozenset[tuple[str, str]] = frozenset(
    {("POST", "/api/v1/sign-in/code"), ("POST", "/api/v1/sign-in")}
)


def needs_key(method: str, rule: str) -> bool:
    """Whether the route is one of the table's: a key is required, and checked before anything else."""
    return (method, spec_path(rule)) in POLICY


def spec_path(rule: str) -> str:
    """``/api/v1/cases/<string:case_id>`` → ``/api/v1/cases/{case_id}`` (the documented form)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + m.group(1) + "}", rule)


def check(role: str, method: str, rule: str) -> None:
    """Raise :class:`Forbidden` unless ``role`` may call this route."""
    allowed = POLICY.get((method, spec_path(rule)), frozenset())  # a route left out is refused to everyone
    if role not in allowed:
        raise Forbidden(f"a {role} key may not call {method} {spec_path(rule)}")
