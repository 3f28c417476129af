"""What the security tests send: bodies that pass validation, so the answer is about the id or the role;
and the tenant with one of everything whose ids another tenant tries."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from PIL import Image

from services.common.db import utcnow
from services.gateway import tenants
from services.gateway.http import Endpoint
from services.gateway.openapi import spec
from services.gateway.service import GatewayService
from tests.support.api import Api, new_company
from tests.support.infra import Platform, wait_for
from tests.support.people import claim, confirm

# (method, documented path) → a body that passes validation; other POST/PUT/PATCH routes get {}.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/cases/{case_id}/transitions"): {"action": "reopen", "note": "我来试试别人的事项"},
    ("POST", "/api/v1/visits/{visit_id}/complete"): {"outcome": "satisfied", "notes": "x"},
    ("PUT", "/api/v1/contacts/{contact_id}/preferences"): {"preferences": {"activity": ["inapp"]}},
    ("PATCH", "/api/v1/cases/{case_id}"): {"priority": "high"},
    ("POST", "/api/v1/cases/{case_id}/comments"): {"body": "别人的事项"},
    ("POST", "/api/v1/community/cases/{case_id}/instructions"): {"body": "别人的事项"},
    ("POST", "/api/v1/incidents/{incident_id}/updates"): {"body": "别人的事件"},
    ("POST", "/api/v1/incidents/{incident_id}/cases"): {"case_ids": ["nope"]},
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): {"resolution": "别人的事件"},
    ("POST", "/api/v1/proposals/{proposal_id}/votes"): {"household": "1-1-101", "choice": "support"},
}


def send(api: Api, method: str, path: str, ids: dict):
    """Call ``path`` (documented form) with ``ids`` filled in, as ``api``'s key."""
    url = path.format(**ids)
    body = BODIES.get((method, path), {}) if method != "GET" else None
    return api.lx.http.request(method, api.lx.base_url + url, json=body, headers=api.headers, timeout=15)


# Path parameters that name something every tenant has (a format, a category code), not a record
# of one tenant: a route with only these has no other tenant's id to try.
SHARED_PARAMS = frozenset({"format", "service_code", "code"})


def documented_routes():
    """(method, path) of every authenticated route of ``/openapi.json``: a route is covered the day it is documented."""
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                yield method.upper(), path


def query_params(method: str, path: str) -> set[str]:
    """The query parameters ``/openapi.json`` documents for the route."""
    operation = spec()["paths"][path][method.lower()]
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def pages(api: Api, path: str, query: dict, ids: dict, most: int = 3):
    """Up to ``most`` answers of GET ``path``: one item a page where it pages, following ``starting_after``."""
    if {"limit", "starting_after"} <= query_params("GET", path):
        query = query | {"limit": 1}
    for _ in range(most):
        response = api.get(path.format(**ids), params=query)
        yield response
        json = response.headers.get("Content-Type", "").startswith("application/json")
        body = response.json() if json else None
        if not (isinstance(body, dict) and body.get("has_more") and body.get("data")):
            return
        query = query | {"starting_after": body["data"][-1]["id"]}


def owns_an_id(path: str) -> bool:
    """Whether ``path`` names a record of one tenant (so another tenant must get 404)."""
    return any(name not in SHARED_PARAMS for name in re.findall(r"\{(\w+)\}", path))


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(out, "PNG")
    return out.getvalue()


def one_of_everything(platform: Platform) -> Api:
    """A new company with one of everything (a closed case with its visit and survey, a proposal, …); ``.ids``."""
    company = new_company(platform)
    case = company.case(company.estate_id, phone="13912349001")
    company.close(case["id"])
    visit = wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])[0]
    wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"])
    company.ids = {
        "case_id": case["id"],
        "visit_id": visit["id"],
        "volunteer_id": company.volunteers[0]["id"],
        "estate_id": company.estate_id,
        "format": "json",  # Open311 routes: /open311/v2/requests/{service_request_id}.{format}
        "service_request_id": case["id"],
        "service_code": "repair",
    }
    photo = company.lx.http.post(
        company.lx.base_url + f"/api/v1/cases/{case['id']}/photos",
        files=[("photo", ("door.png", tiny_png(), "image/png"))],
        headers=company.headers,
        timeout=15,
    )
    company.ids["photo_id"] = photo.json()["data"][0]["id"]
    incident = company.post(
        "/api/v1/incidents",
        {"estate_id": company.estate_id, "kind": "water_outage", "title": "停水", "description": "抢修"},
    )
    closes_at = (utcnow() + timedelta(days=7)).isoformat() + "Z"
    proposal = company.post(
        "/api/v1/proposals",
        {"estate_id": company.estate_id, "title": "充电桩", "description": "车库", "closes_at": closes_at},
    )
    company.ids["incident_id"] = incident.json()["id"]
    company.ids["proposal_id"] = proposal.json()["id"]
    leader = company.volunteers[0]["id"]
    team = company.post("/api/v1/teams", {"name": "义务维修队", "leader_id": leader, "member_ids": [leader]})
    activity = company.post(
        "/api/v1/activities",
        {
            "title": "社区义诊",
            "kind": "free_clinic",
            "estate_ids": [company.estate_id],
            "place": "党群服务中心",
            "starts_at": "2099-01-03T09:00:00+08:00",
            "ends_at": "2099-01-03T11:00:00+08:00",
            "capacity": 5,
            "shifts": [{"name": "引导", "needed": 2}],
            "publish": True,
        },
    ).json()
    signup = company.post(
        f"/api/v1/activities/{activity['id']}/signups",
        {"name": "陈先生", "phone": "13912349001", "household": "1-1-101"},
    )
    company.ids |= {
        "team_id": team.json()["id"],
        "activity_id": activity["id"],
        "shift_id": activity["shifts"][0]["id"],
        "signup_id": signup.json()["id"],
    }
    campaign = company.post(
        "/api/v1/survey-campaigns",
        {
            "title": "季度满意度调查",
            "households": [
                {"estate_id": company.estate_id, "household": "1-1-101", "name": "陈先生", "phone": "13912349001"}
            ],
        },
    )
    company.ids["campaign_id"] = campaign.json()["id"]
    contact = company.post(
        "/api/v1/contacts",
        {"phone": "13912349001", "name": "陈先生", "estate_id": company.estate_id, "household": "1-1-101"},
    )
    notice = {"template": "notice", "recipients": ["13912349001"], "variables": {"title": "通知", "body": "停水"}}
    notification = company.post("/api/v1/notifications", notice | {"idempotency_key": "security-suite"})
    broadcast = company.post("/api/v1/broadcasts", {"estate_id": company.estate_id, "title": "通知", "body": "停水"})
    webhook = company.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "event_types": ["case.closed"]})
    message = wait_for(lambda: company.get("/api/v1/inbox", params={"phone": "13912349001"}).json()["data"])[0]
    company.ids |= {
        "contact_id": contact.json()["id"],
        "notification_id": notification.json()["id"],
        "broadcast_id": broadcast.json()["id"],
        "webhook_id": webhook.json()["id"],
        "message_id": message["id"],
    }
    # The case's reporter, confirmed by the community in 1-1-101 (the resident app votes for it), and
    # a resident's claim in the victim's community (政通路社区), for its party branch to decide.
    confirm(platform, "政通路社区", company.tenant_id, company.estate_id, ("1-1-101", "13912349001"))
    company.ids["claim_id"] = claim(
        platform, "政通路社区", company.tenant_id, company.estate_id, "1-1-102", "13912349009"
    )["id"]
    with platform.store("gateway").transaction() as session:
        spare = tenants.issue_key(session, company.tenant_id, role="company_staff")
        company.ids["key_id"] = tenants.authenticate(session, spare)[1].id  # a key the tests may revoke
    return company


def marked_victim(platform: Platform) -> Api:
    """:func:`one_of_everything` plus records whose names and phones no other tenant of the tests has.

    ``.secrets``: every string of it another tenant must never see (its ids, phones as ``+86…``,
    ``139…`` and ``139****1234``, and the names of its residents, staff, volunteers, estate,
    household and case). ``.supervisor``: its community's party branch, to read its claims.
    """
    import random
    import uuid

    from services.common.phones import mask_phone

    company = one_of_everything(platform)
    draw = random.Random()
    given = "".join(draw.sample("嘉琪瑞霖泽宇梓涵昊然思远安澜若溪星河", 2))
    # Ending in 7xxx: masked (139****7xxx) they still differ from every phone the intruder has.
    phones = [f"1397{draw.randrange(100, 1000)}7{draw.randrange(100, 1000)}" for _ in range(3)]
    names = {
        "resident": "司马" + given,
        "staff": "诸葛" + given,
        "volunteer": "欧阳" + given,
        "contact": "上官" + given,
        "estate": f"翠湖{given}苑",
        "title": f"{given}水管爆裂",
        "household": f"{draw.randrange(100, 999)}-{draw.randrange(10, 99)}-{draw.randrange(10000, 99999)}",
    }
    estate = company.post("/api/v1/estates", {"name": names["estate"], "households": 100}).json()["id"]
    helper = {"name": names["volunteer"], "phone": phones[1], "estate_ids": [estate], "skills": ["visit"]}
    volunteer = company.post("/api/v1/volunteers", helper).json()["id"]
    reporter = {"name": names["resident"], "phone": phones[0], "household": names["household"]}
    case = company.case(estate, title=names["title"], reporter=reporter)
    for action, extra in (("accept", {}), ("assign", {"assignee": names["staff"]})):
        assert (done := company.transition(case["id"], action, **extra)).status_code == 200, done.text
    contact = company.post(
        "/api/v1/contacts",
        {"phone": phones[2], "name": names["contact"], "estate_id": estate, "household": names["household"]},
    )
    assert contact.status_code == 200, contact.text
    marked = {"marked_estate_id": estate, "marked_volunteer_id": volunteer, "marked_case_id": case["id"]}
    company.ids |= marked | {"marked_contact_id": contact.json()["id"]}
    company.names, company.phones = names, phones
    shown = [f(p) for p in phones for f in (lambda p: "+86" + p, str, mask_phone)]
    owned = [v for k, v in company.ids.items() if k not in SHARED_PARAMS]
    company.secrets = sorted(set(owned + shown + list(names.values())))
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(session, f"政通路社区党委-{uuid.uuid4().hex[:6]}", "政通路社区")
        company.supervisor = Api(platform, tenants.issue_key(session, branch["tenant_id"], role="supervisor"))
    return company


def post_page_routes() -> set[str]:
    """The rule of every POST route a browser's form reaches (the API and Open311 take keys, not cookies)."""
    rules = set()
    for attr in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            form_route = not entrypoint.url.startswith(("/api/", "/open311/"))
            if isinstance(entrypoint, Endpoint) and entrypoint.method == "POST" and form_route:
                rules.add(entrypoint.url)
    return rules
