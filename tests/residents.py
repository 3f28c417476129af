"""Test helpers for residents: the community confirms a household, a person signs in, answers or votes.

The sign-in pages are another piece of work; here a signed-in person is made directly with
``sessions.person_for`` + ``sessions.start``, and the token is sent as the ``lx_session`` cookie
(a browser) or the ``Lianxin-Resident-Token`` header (a resident app).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.db import utcnow
from services.common.fields import mainland_mobile
from services.gateway import register, sessions
from services.gateway.residents import ResidentActions


@dataclass
class Person:
    """A signed-in person as the gateway sees them (``sessions.SignedIn``'s fields), with the token."""

    phone: str
    token: str
    csrf: str
    person_id: str
    session_id: str
    app_key_id: str | None = None

    @property
    def cookies(self) -> dict:
        return {sessions.COOKIE: self.token}


def confirm(platform, community: str, tenant_id: str, estate_id: str, *members: tuple[str, str]) -> dict:
    """The community's register confirms each (household, phone) of the estate (as an import does)."""
    rows = register.numbered([{"estate_id": estate_id, "household": h, "phone": p} for h, p in members])
    with platform.store("gateway").transaction() as session:
        return register.import_rows(session, community, rows, {estate_id: tenant_id}, "test/supervisor", utcnow())


def claim(platform, community: str, tenant_id: str, estate_id: str, household: str, phone: str) -> dict:
    with platform.store("gateway").transaction() as session:
        return register.request_claim(session, phone, estate_id, household, tenant_id, community, utcnow())


def sign_in(platform, phone: str, app_key_id: str | None = None) -> Person:
    """A person signed in with ``phone`` (a browser's session, or a resident app's with its key's id)."""
    e164 = mainland_mobile(phone)
    with platform.store("gateway").transaction() as session:
        person = sessions.person_for(session, e164, utcnow())
        token = sessions.start(session, person, utcnow(), app_key_id=app_key_id)
        found = sessions.resume(session, token, utcnow(), app_key_id=app_key_id)
    return Person(e164, token, found.csrf, found.person_id, found.session_id, app_key_id)


PAGE_TOKEN = "page-token-" + "x" * 24  # what a browser that opened our page holds: lx_csrf cookie = csrf field


def post_form(platform, link: str, form: dict, headers: dict | None = None, cookies: dict | None = None, **kwargs):
    """POST ``form`` to a page route as a browser that opened our page does: the double-submit token in
    the ``lx_csrf`` cookie and the ``csrf`` field (a ``csrf`` in ``form``, a session's, wins).

    From a browser of its own: ``platform.http`` may hold another ``lx_csrf`` from a page it opened.
    """
    browser = requests.Session()
    browser.trust_env = False
    jar = {"lx_csrf": PAGE_TOKEN} | (cookies or {})
    with browser:
        return browser.post(link, data={"csrf": PAGE_TOKEN} | form, headers=headers, cookies=jar, **kwargs)


def answer(platform, link: str, score: int = 5, person: Person | None = None, user_agent: str = "resident", csrf=True):
    """POST the survey form as a browser; signed in as ``person`` when given (with the page's CSRF field).

    ``csrf=False``: the form another site would post, with no token at all.
    """
    form = {"score": str(score), "solved": "true"}
    cookies = person.cookies if person is not None else None
    if person is not None:
        form["csrf"] = person.csrf
    if not csrf:
        return platform.http.post(link, data=form | {"csrf": ""}, headers={"User-Agent": user_agent}, cookies=cookies)
    return post_form(platform, link, form, {"User-Agent": user_agent}, cookies, timeout=15)


class Seams(ResidentActions):
    """The gateway's resident seams (what the resident pages call) outside a worker: its database, RPC
    through a standalone proxy."""

    def __init__(self, platform) -> None:
        self.db = platform.store("gateway")
        self.platform = platform

    def _call(self, service: str, method: str, *args: object) -> object:
        with ServiceRpcProxy(service, self.platform.config("gateway")) as proxy:
            return getattr(proxy, method)(*args)
