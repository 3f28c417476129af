"""Every gateway answer carries the security headers, and no page needs inline style or script.

Issue 18: the public pages had no Content-Security-Policy, framing or sniffing protection or
referrer policy, and their styles were inline. The headers are set once around the gateway's
WSGI app (services/gateway/headers.py); styles are files under /static.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.gateway.http import Endpoint
from services.gateway.service import GatewayService
from tests.support.infra import wait_for
from tests.support.people import signed_in_browser, staff_browser, survey_link
from tests.support.settings import PUBLIC_HOOK

PAGES = Path(__file__).resolve().parents[2] / "services/gateway/pages"
EXPECTED = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
TAG = re.compile(r"<[a-zA-Z][^>]*>")


def inline_code(html: str) -> list[str]:
    """What a strict CSP blocks in ``html``: style attributes and blocks, inline scripts, event handlers."""
    found = [f"<style> block: {m.group()}" for m in re.finditer(r"<style[\s>]", html, re.I)]
    for tag in TAG.findall(html):
        if re.search(r"\sstyle\s*=", tag, re.I):
            found.append(f"style attribute: {tag}")
        if re.search(r"\son[a-z]+\s*=", tag, re.I):
            found.append(f"event handler: {tag}")
        if re.match(r"<script\b", tag, re.I) and "src=" not in tag:
            found.append(f"inline script: {tag}")
        if "javascript:" in tag.lower():
            found.append(f"javascript: URL: {tag}")
    return found


def page_routes() -> set[str]:
    """Every GET route a browser opens (the API and Open311 are for keys, not pages)."""
    rules = set()
    for attr in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            is_page = not entrypoint.url.startswith(("/api/", "/open311/"))
            if isinstance(entrypoint, Endpoint) and entrypoint.method == "GET" and is_page:
                rules.add(entrypoint.url)
    return rules


@pytest.mark.unit
def test_no_template_holds_inline_style_or_script():
    found = {t.name: inline_code(t.read_text(encoding="utf-8")) for t in sorted(PAGES.glob("*.html"))}
    assert len(found) >= 25
    assert {name: problems for name, problems in found.items() if problems} == {}


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


@pytest.mark.integration
def test_every_page_and_answer_of_the_gateway_carries_the_security_headers_and_no_inline_code(platform, victim):

    base, ids = platform.base_url, victim.ids
    estate, case, proposal, photo = ids["estate_id"], ids["case_id"], ids["proposal_id"], ids["photo_id"]
    link = wait_for(lambda: survey_link(platform, victim.tenant_id, "+8613912349001"))
    supervisor = staff_browser(platform, None, "supervisor", community="政通路社区")  # the victim's community
    resident = signed_in_browser(platform, "13912349001")
    volunteer = signed_in_browser(platform, victim.volunteers[0]["phone"])
    clerk = staff_browser(platform, victim.tenant_id, "company_staff")
    admin = staff_browser(platform, victim.tenant_id, "company_admin")
    anonymous = browser()
    hook = victim.post("/api/v1/webhooks", {"url": PUBLIC_HOOK, "event_types": ["case.closed"]}).json()["id"]
    pages = {
        "/docs": (anonymous, "/docs"),
        "/openapi.json": (anonymous, "/openapi.json"),
        "/healthz": (anonymous, "/healthz"),
        "/livez": (anonymous, "/livez"),
        "/readyz": (anonymous, "/readyz"),
        "/static/<string:name>": (anonymous, "/static/people.css"),
        "/signin": (anonymous, "/signin"),
        "/s/<string:token>": (anonymous, link.removeprefix(base)),
        "/p/dashboard": (anonymous, "/p/dashboard"),  # a redirect to the workbench's branch view now
        "/p/communities/<string:community>/league": (anonymous, "/p/communities/政通路社区/league"),
        "/p/estates/<string:estate_id>/board": (anonymous, f"/p/estates/{estate}/board"),
        "/p/estates/<string:estate_id>/calendar": (anonymous, f"/p/estates/{estate}/calendar"),
        "/p/photos/<string:photo_id>": (anonymous, f"/p/photos/{photo}"),
        "/e/<string:estate_id>": (resident, f"/e/{estate}"),
        "/e/<string:estate_id>/report": (resident, f"/e/{estate}/report"),
        "/e/<string:estate_id>/proposals": (resident, f"/e/{estate}/proposals"),
        "/e/<string:estate_id>/proposals/<string:proposal_id>": (resident, f"/e/{estate}/proposals/{proposal}"),
        "/e/<string:estate_id>/activities": (resident, f"/e/{estate}/activities"),
        "/me": (resident, "/me"),
        "/me/cases": (resident, "/me/cases"),
        "/me/cases/<string:case_id>": (resident, f"/me/cases/{case}"),
        "/me/cases/<string:case_id>/photos/<string:photo_id>": (resident, f"/me/cases/{case}/photos/{photo}"),
        "/me/inbox": (resident, "/me/inbox"),
        "/v": (volunteer, "/v"),
        "/v/visits/<string:visit_id>": (volunteer, f"/v/visits/{ids['visit_id']}"),
        "/v/hours": (volunteer, "/v/hours"),
        "/v/shifts": (volunteer, "/v/shifts"),
        "/workbench": (clerk, "/workbench"),
        "/workbench/cases/<string:case_id>": (clerk, f"/workbench/cases/{case}"),
        "/workbench/cases/<string:case_id>/photos/<string:photo_id>": (
            clerk,
            f"/workbench/cases/{case}/photos/{photo}",
        ),
        "/workbench/settings/staff": (admin, "/workbench/settings/staff"),
        "/workbench/settings/actions": (admin, "/workbench/settings/actions"),
        "/workbench/settings/categories": (admin, "/workbench/settings/categories"),
        "/workbench/settings/notifications": (admin, "/workbench/settings/notifications"),
        "/workbench/settings/surveys": (admin, "/workbench/settings/surveys"),
        "/workbench/settings/keys": (admin, "/workbench/settings/keys"),
        "/workbench/settings/webhooks": (admin, "/workbench/settings/webhooks"),
        "/workbench/settings/webhooks/<string:webhook_id>": (admin, f"/workbench/settings/webhooks/{hook}"),
        "/workbench/incidents": (clerk, "/workbench/incidents"),
        "/workbench/incidents/new": (clerk, "/workbench/incidents/new"),
        "/workbench/incidents/<string:incident_id>": (clerk, f"/workbench/incidents/{ids['incident_id']}"),
        "/workbench/broadcasts": (clerk, "/workbench/broadcasts"),
        "/workbench/broadcasts/new": (clerk, "/workbench/broadcasts/new"),
        "/workbench/broadcasts/<string:broadcast_id>": (clerk, f"/workbench/broadcasts/{ids['broadcast_id']}"),
        "/workbench/statistics": (clerk, "/workbench/statistics?group=month"),
        "/workbench/volunteers": (clerk, "/workbench/volunteers"),
        "/workbench/volunteers/<string:volunteer_id>": (clerk, f"/workbench/volunteers/{ids['volunteer_id']}"),
        "/workbench/teams": (clerk, "/workbench/teams"),
        "/workbench/teams/<string:team_id>": (clerk, f"/workbench/teams/{ids['team_id']}"),
        "/workbench/activities": (clerk, "/workbench/activities"),
        "/workbench/activities/<string:activity_id>": (clerk, f"/workbench/activities/{ids['activity_id']}"),
        "/workbench/branch": (supervisor, "/workbench/branch"),
        "/workbench/branch/cases/<string:case_id>": (supervisor, f"/workbench/branch/cases/{case}"),
    }
    assert set(pages) == page_routes(), "a new page route: add it here"
    answers = {rule: who.get(base + path, allow_redirects=False) for rule, (who, path) in pages.items()}
    # Beyond the routes: a redirect to sign in, a 403 form page, a 404 page, the router's own 404,
    # /metrics (not on this port), an API answer and an API problem.
    answers |= {
        "303 to sign in": anonymous.get(base + "/me", allow_redirects=False),
        "403 form page": resident.post(base + f"/me/cases/{case}/replies", data={"body": "x"}),
        "404 page": anonymous.get(base + "/e/" + "0" * 26),
        "router 404": anonymous.get(base + "/nowhere"),
        "/metrics": anonymous.get(base + "/metrics"),
        "API": victim.get("/api/v1/me"),
        "API problem": anonymous.get(base + "/api/v1/cases"),
    }
    for name, answer in answers.items():
        assert {h: answer.headers.get(h) for h in EXPECTED} == EXPECTED, name
    html = {name: a for name, a in answers.items() if a.headers.get("Content-Type", "").startswith("text/html")}
    assert len(html) >= 25, sorted(html)
    assert {name: inline_code(a.text) for name, a in html.items() if inline_code(a.text)} == {}
    sheets = {href for a in html.values() for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', a.text)}
    assert sheets and all(href.startswith("/static/") for href in sheets)
    for href in sheets:
        sheet = anonymous.get(base + href)
        assert sheet.status_code == 200 and sheet.headers["Content-Type"].startswith("text/css"), href
