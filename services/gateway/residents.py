"""What a signed-in resident does that counts: claim a household, vote for it, answer its survey.

Every one of these takes the household from the community's register
(:mod:`services.gateway.register`), never from the request: a property company cannot put a
household into a vote or a rating by typing it. The resident pages (``/r/…``, the
``lx_session`` cookie) and a company's resident app (role ``resident_app``, acting with its
resident's sign-in token, :meth:`ResidentActions._app_person`) call the same methods.
"""

from __future__ import annotations

import hashlib
import hmac

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Request

from services.common.db import utcnow
from services.common.errors import NotFound, ValidationFailed
from services.gateway import households, register, sessions, staff
from services.gateway.authorization import Forbidden
from services.gateway.http import Unauthorized
from services.gateway.models import Tenant
from services.gateway.plumbing import Plumbing

OWN_COMPANY = "您是该物业公司的工作人员，不能为本公司的事项评价或投票 (staff never rate or vote on their own company)"
NOT_CONFIRMED = "您的住户身份尚未经社区确认 (the community has not confirmed you in a household of this estate)"
APP_TOKEN_HEADER = "Lianxin-Resident-Token"  # a resident_app's signed-in resident (see sessions.resume)
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class ResidentVoteSchema(Schema):
    """A resident's ballot: the household is the register's, the body may only pick among their own."""

    choice = fields.String(required=True, validate=validate.OneOf(("support", "oppose", "abstain")))
    household = fields.String(
        load_default=None, metadata={"description": "only when the community confirmed you in several households"}
    )


def phone_hash(phone: str) -> str:
    """What a verified answer keeps of the phone that vouched for it."""
    return hashlib.sha256(phone.encode()).hexdigest()


def csrf_ok(request: Request, person: sessions.SignedIn) -> bool:
    """The session's form token came with the POST: it was sent from our page, not a stranger's."""
    sent = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None) or ""
    return bool(sent) and hmac.compare_digest(sent, person.csrf)


def choose_household(confirmed: list[str], wanted: str | None) -> str:
    """The household a resident acts for: their only confirmed one, or the one they picked among several."""
    if not confirmed:
        raise Forbidden(NOT_CONFIRMED)
    if wanted is None:
        if len(confirmed) > 1:
            raise ValidationFailed("choose a household", {"household": [f"请选择为哪一户投票: {', '.join(confirmed)}"]})
        return confirmed[0]
    if wanted not in confirmed:
        raise ValidationFailed(
            "not your household", {"household": ["这一户不是社区为您确认的住户 (not a household confirmed for you)"]}
        )
    return wanted


class ResidentActions(Plumbing):
    """Seams for the resident pages and the resident app; no routes of their own."""

    def _app_person(self, request: Request) -> sessions.SignedIn | None:
        """The resident a ``resident_app`` key acts for, by their sign-in token (never by a phone it names)."""
        caller = self._caller(request)
        token = request.headers.get(APP_TOKEN_HEADER, "")
        if caller.role != "resident_app" or not token:
            return None
        with self.db.transaction() as session:
            return sessions.resume(session, token, utcnow(), app_key_id=caller.key_id)

    def _my_households(self, person: sessions.SignedIn, estate_id: str | None = None) -> list[dict]:
        """The person's rows of the register, every status (the pages show pending claims too)."""
        with self.db.read() as session:
            return register.of_phone(session, person.phone, estate_id)

    def _claim_household(self, person: sessions.SignedIn, tenant: str, estate_id: str, household: str) -> dict:
        """A pending claim for the community of the estate's company to confirm; 422 for an unknown estate."""
        own = {estate["id"] for estate in self._call("requests", "list_estates", tenant)}
        with self.db.read() as session:
            community = session.scalar(select(Tenant.community).where(Tenant.id == tenant))
        if estate_id not in own or not community:
            raise ValidationFailed("unknown estate", {"estate_id": [register.NO_ESTATE]})
        with self.db.transaction() as session:
            return register.request_claim(session, person.phone, estate_id, household, tenant, community, utcnow())

    def _refuse_own_company(self, person: sessions.SignedIn, tenant: str) -> None:
        """403 when the person is staff of the company being rated or voted on: the roles stay apart."""
        with self.db.read() as session:
            if staff.is_staff_of(session, person.phone, tenant):
                raise Forbidden(OWN_COMPANY)

    def _vote_as_resident(
        self, person: sessions.SignedIn, tenant: str, proposal_id: str, choice: object, household: str | None = None
    ) -> dict:
        """Vote for the person's confirmed household in the proposal's estate.

        None confirmed: 403. Several: ``household`` picks one of them (422 otherwise). A second
        phone of the same household: 409 本户已投票, and the first vote stands (the requests
        service's one-vote-per-household key).
        """
        proposal = self._call("requests", "get_proposal", tenant, proposal_id)  # 404 for another company's
        self._refuse_own_company(person, tenant)
        with self.db.read() as session:
            confirmed = [row.household for row in households.confirmed(session, person.phone, proposal["estate_id"])]
        chosen = choose_household(confirmed, household)
        ballot = {"household": chosen, "choice": choice}
        return self._call("requests", "vote", tenant, proposal_id, ballot, f"resident:{person.person_id}")

    def _respondent(
        self, person: sessions.SignedIn | None, estate_id: str, household: str, with_phone: bool = False
    ) -> dict:
        """Who answers a survey, as the surveys service records it: verified only for a confirmed member."""
        if person is None:
            return {"verified": False}
        with self.db.read() as session:
            verified = households.is_member(session, person.phone, estate_id, household)
        respondent: dict = {"verified": verified, "phone_hash": phone_hash(person.phone) if verified else None}
        if with_phone:
            respondent["phone"] = person.phone
        return respondent

    def _link_respondent(self, request: Request, token: str) -> dict:
        """Who answers through a survey link: unverified unless signed in (with our page's CSRF token).

        Signed in as staff of the survey's company: 403 (:data:`OWN_COMPANY`), nothing recorded.
        """
        person = self._person(request)
        if person is None or not csrf_ok(request, person):
            return {"verified": False}
        try:
            asked = self._call("surveys", "survey_household", token)
        except NotFound:
            return {"verified": False}  # the answer itself reports the missing survey
        self._refuse_own_company(person, asked["tenant"])
        return self._respondent(person, asked["estate_id"], asked["household"])

    def _resident_survey(self, tenant: str, case_id: str) -> dict:
        """The case's latest survey for the resident pages (status, questions, case_title, survey_id; no token)."""
        return self._call("surveys", "resident_survey", tenant, case_id)

    def _answer_for_case_as(
        self, person: sessions.SignedIn, tenant: str, case_id: str, payload: object, fingerprint: str
    ) -> dict:
        """A signed-in resident answers their case's survey; verified when confirmed in its household.

        Only the case's reporter or a confirmed member of the household may answer (404 otherwise).
        """
        self._refuse_own_company(person, tenant)
        survey = self._resident_survey(tenant, case_id)
        respondent = self._respondent(person, survey["estate_id"], survey["household"], with_phone=True)
        return self._call("surveys", "answer_for_case", tenant, case_id, payload, fingerprint, respondent)


def app_person_required(person: sessions.SignedIn | None) -> sessions.SignedIn:
    """A resident app acts with its resident's sign-in token, or not at all."""
    if person is None:
        raise Unauthorized(f"a resident_app key acts with its resident's sign-in token in {APP_TOKEN_HEADER}")
    return person
