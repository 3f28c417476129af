"""Residents in tests: the community confirms a household, a person signs in, reads the survey
link in their inbox, answers or votes; a company's proposal for them to vote on.

Signing in by code is tested in its own files; here a signed-in person is made directly with
``sessions.person_for`` + ``sessions.start``, and the token is sent as the ``lx_session`` cookie
(a browser) or the ``Lianxin-Resident-Token`` header (a resident app).

Two ways to confirm a household, kept apart on purpose: ``confirm`` goes through the register's
import (``register.import_rows``: validated, idempotent, any community), while
``add_confirmed_member`` writes the confirmed row directly for a company's estate in 政通路社区.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import requests
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from services.common.db import utcnow
from services.common.fields import mainland_mobile
from services.common.ids import new_id
from services.common.phones import mask_phone
from services.gateway import register, sessions
from services.gateway.models import HouseholdMember
from services.gateway.residents import ResidentActions
from services.notifications.models import InboxMessage
from services.surveys.models import Survey
from tests.support.api import Api
from tests.support.infra import Platform, wait_for


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


def confirm(platform: Platform, community: str, tenant_id: str, estate_id: str, *members: tuple[str, str]) -> dict:
    """The community's register confirms each (household, phone) of the estate (as an import does)."""
    rows = register.numbered([{"estate_id": estate_id, "household": h, "phone": p} for h, p in members])
    with platform.store("gateway").transaction() as session:
        return register.import_rows(session, community, rows, {estate_id: tenant_id}, "test/supervisor", utcnow())


def claim(platform: Platform, community: str, tenant_id: str, estate_id: str, household: str, phone: str) -> dict:
    with platform.store("gateway").transaction() as session:
        return register.request_claim(session, phone, estate_id, household, tenant_id, community, utcnow())


def sign_in(platform: Platform, phone: str, app_key_id: str | None = None) -> Person:
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


def answer(
    platform: Platform, link: str, score: int = 5, person: Person | None = None, user_agent: str = "resident", csrf=True
):
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

    def __init__(self, platform: Platform) -> None:
        self.db = platform.store("gateway")
        self.platform = platform

    def _call(self, service: str, method: str, *args: object) -> object:
        with ServiceRpcProxy(service, self.platform.config("gateway")) as proxy:
            return getattr(proxy, method)(*args)


def add_confirmed_member(
    platform: Platform, company: Api, phone: str, household: str, estate_id: str | None = None
) -> None:
    """The community's register confirms ``phone`` in ``household`` (what h3's import and claims do)."""
    store = platform.store("gateway")
    try:
        with store.transaction() as session:
            session.add(
                HouseholdMember(
                    id=new_id(), community="政通路社区", tenant_id=company.tenant_id,
                    estate_id=estate_id or company.estate_id, household=household, phone=phone,
                    status="confirmed", source="register", requested_at=utcnow(), decided_at=utcnow(),
                )
            )  # fmt: skip
    finally:
        store.engine.dispose()


class Resident:
    """A phone signed in through a session cookie, as a browser that has been through /signin."""

    def __init__(self, platform: Platform, phone: str) -> None:
        self.lx = platform
        self.phone = phone
        store = platform.store("gateway")
        try:
            with store.transaction() as session:
                person = sessions.person_for(session, phone, utcnow())
                token = sessions.start(session, person, utcnow())
                self.csrf = sessions.resume(session, token, utcnow()).csrf
        finally:
            store.engine.dispose()
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.cookies.set(sessions.COOKIE, token)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.lx.base_url + path, allow_redirects=False, timeout=15, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kwargs) -> requests.Response:
        form = (data or {}) | ({"csrf": self.csrf} if csrf else {})
        return self.http.post(self.lx.base_url + path, data=form, allow_redirects=False, timeout=15, **kwargs)


def proposal(company: Api, **fields: object) -> dict:
    body = {
        "estate_id": company.estate_id,
        "title": "在地下车库安装电动车充电桩",
        "description": "物业提议在B1层安装20个充电桩，费用由使用者分摊。",
        "closes_at": (utcnow() + timedelta(days=7)).isoformat() + "Z",
    } | fields
    created = company.post("/api/v1/proposals", body)
    assert created.status_code == 201, created.text
    return created.json()


def survey_link(platform: Platform, tenant_id: str, phone: str = "+8613912345678") -> str | None:
    """The link as the resident receives it: from their in-app inbox."""
    with platform.store("notifications").read() as session:
        bodies = session.scalars(
            select(InboxMessage.body).where(InboxMessage.tenant == tenant_id, InboxMessage.recipient_phone == phone)
        ).all()
    links = [m.group(0) for body in bodies for m in re.finditer(r"http://[^\s（]+/s/[A-Za-z0-9_\-]+", body)]
    return links[-1] if links else None


def signed_in_browser(platform: Platform, phone: str) -> requests.Session:
    """A browser (requests.Session) signed in as ``phone``, without the code round trip.

    ``browser.csrf`` is the session's form token (the hidden ``csrf`` field of every POST form).
    The session is made directly in the gateway's database, exactly as ``POST /signin`` makes it.
    """
    with platform.store("gateway").transaction() as session:
        person = sessions.person_for(session, mainland_mobile(phone), utcnow())
        token = sessions.start(session, person, utcnow())
        signed = sessions.resume(session, token, utcnow())
    browser = requests.Session()
    browser.trust_env = False
    browser.cookies.set(sessions.COOKIE, token, domain="127.0.0.1", path="/")
    browser.csrf = signed.csrf
    return browser


class CodeCatcher(logging.Handler):
    """The development log channel's lines: where a developer (and a test) reads a sign-in code."""

    LINE = re.compile(r"sign-in code for (\S+): (\d{6})$")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def code_for(self, phone: str) -> str:
        """The newest code logged for ``phone`` (waits for it: the notifications service sends it)."""
        masked = mask_phone(phone)

        def newest():
            found = [m.group(2) for m in map(self.LINE.search, self.lines) if m and m.group(1) == masked]
            return found[-1] if found else None

        return wait_for(newest, timeout=10)


def closed_and_rated(platform: Platform, api: Api, n: int, score: int, phone_base: int, community: str) -> None:
    """``n`` closed cases, each rated ``score`` by its reporter, whom the community confirmed in the household."""
    for i in range(n):
        phone, household = f"139{phone_base + i:08d}", f"{i + 1}-1-101"
        confirm(platform, community, api.tenant_id, api.estate_id, (household, phone))
        case = api.case(api.estate_id, phone=phone, household=household)
        api.close(case["id"])
        link = wait_for(lambda phone=phone: survey_link(platform, api.tenant_id, "+86" + phone), timeout=30)
        resident = sign_in(platform, phone)  # signed in, so the answer counts in the league
        answer = {"score": str(score), "solved": "yes", "csrf": resident.csrf}
        headers = {"User-Agent": f"resident-phone-{phone}"}  # each resident answers from their own phone
        assert post_form(platform, link, answer, headers=headers, cookies=resident.cookies).status_code == 200


def open_proposal(company):
    closes = (utcnow() + timedelta(days=7)).isoformat() + "Z"
    body = {
        "estate_id": company.estate_id,
        "title": "安装电动车充电桩",
        "description": "地下车库B区",
        "closes_at": closes,
    }
    created = company.post("/api/v1/proposals", body)
    assert created.status_code == 201, created.text
    return created.json()


def tally(company, proposal):
    return company.get(f"/api/v1/proposals/{proposal['id']}").json()["tally"]


def survey_of(platform, case_id):
    store = platform.store("surveys")
    try:
        with store.read() as session:
            return session.scalars(select(Survey).where(Survey.case_id == case_id)).one()
    finally:
        store.engine.dispose()


def anonymous(platform, path: str, method: str = "get", **kwargs) -> requests.Response:
    """A request without a session (the pages answer with a redirect to /signin, not a page)."""
    return getattr(platform.http, method)(platform.base_url + path, allow_redirects=False, timeout=15, **kwargs)


def phone() -> str:
    """A fresh mainland mobile in E.164, one per resident of a test."""
    return "+86139" + str(uuid.uuid4().int)[:8]


def staff_browser(platform, tenant_id: str | None, role: str, community: str | None = None) -> requests.Session:
    """A signed-in browser of a person the company (or the community, for a supervisor) has as
    ``role``; ``.member`` is the membership."""
    from services.gateway import staff

    phone = "139" + str(uuid.uuid4().int)[:8]
    with platform.store("gateway").transaction() as session:
        member = staff.invite(
            session, "+86" + phone, "测试员工", role, "test", utcnow(), tenant_id=tenant_id, community=community
        )
    signed = signed_in_browser(platform, phone)
    signed.member = member
    return signed


def clerk_of(platform, company, role: str = "company_staff", name: str = "张调度") -> Resident:
    """A signed-in browser of a person the company has as ``role`` (invited as the settings page does);
    ``.member`` is the membership."""
    from services.gateway import staff

    who = phone()
    with platform.store("gateway").transaction() as session:
        member = staff.invite(session, who, name, role, "test", utcnow(), tenant_id=company.tenant_id)
    browser = Resident(platform, who)
    browser.member = member
    return browser
