"""The resident's own pages (zh-CN, phone first, no JavaScript): what the estate's QR code opens.

``/e/<estate_id>`` is the estate's page, open to anyone; everything a resident does or reads of
their own (report a case, follow it, reply, sign up, read the inbox) needs the one-time-code
sign-in (cookie ``lx_session``): without it a page answers 303 to ``/signin?next=<the page>``.
The reporter is always the signed-in phone, never a form field. A case of another phone, like
a made-up id, is a 404 page (a 403 would confirm the id exists). Every form posts the session's
CSRF token; without it the answer is a 403 page and nothing changes.

The estate id leads to the company (tenant) through the requests service's ``estate_public``;
the household a resident acts for comes from the community's register (:mod:`households`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, Gone, NotFound, ValidationFailed
from services.common.phones import mask_phone
from services.gateway import households, qr, resident_views, sessions
from services.gateway.apidoc import Param, Route, page_id, path_id
from services.gateway.authorization import Forbidden
from services.gateway.http import endpoint
from services.gateway.pages import LABELS
from services.gateway.people import PeopleRoutes, person_page, see_other
from services.gateway.residents import OWN_COMPANY, ResidentActions
from services.gateway.routes.photos import PhotoRoutes
from services.gateway.routes.surveys import fingerprint, form_answer
from services.gateway.uploads import FIELD as PHOTO_FIELD
from services.requests.schemas import CaseCreateSchema

REPORT_FIELDS = ("category", "title", "description", "household", "name")
#: How a resident who gives no name is addressed on the case (the register holds no names).
DEFAULT_NAME = "业主"
NOT_IN_REGISTER = "本小区住户名册中没有这一户，请核对 楼-单元-房号"
#: What a page says after a form went through (``?done=…`` on the redirect).
NOTICES = {
    "survey": "感谢您的评价！",
    "vote": "投票成功，感谢参与。",
    "claim": "已提交，社区确认后即可投票和报名活动。",
}


def zh(messages: list[str] | str) -> str:
    """A service's "中文 (English)" messages as the Chinese alone, joined; a resident reads Chinese."""
    if isinstance(messages, str):
        messages = [messages]
    return "；".join(str(m).split(" (")[0] for m in messages)


def flat_errors(errors: dict) -> dict[str, str]:
    """The service's field errors (``reporter.household`` nested) as form field → one line."""
    flat: dict[str, str] = {}
    for field, messages in errors.items():
        if isinstance(messages, dict):
            for inner, more in messages.items():
                flat[inner] = zh(more) if isinstance(more, list) else zh(str(more))
        else:
            flat[field] = zh(messages)
    return flat


class ResidentPages(ResidentActions, PeopleRoutes, PhotoRoutes):
    # --- the seams: the estate, my households -------------------------------------------

    def _estate(self, estate_id: str) -> dict | None:
        """{id, name, address, tenant} of the estate, or None for an unknown one."""
        try:
            return self._call("requests", "estate_public", estate_id)
        except (NotFound, ValidationFailed):
            return None

    @staticmethod
    def _missing(person: sessions.SignedIn | None, what: str = "页面") -> Response:
        message = "请检查链接或二维码是否完整，或返回首页。"
        return person_page("resident_message.html", person, 404, heading=f"没有找到这个{what}", message=message)

    def _mine(self, person: sessions.SignedIn, estate_id: str | None = None) -> list[str]:
        """The households the community confirmed for this phone (of one estate, when given)."""
        with self.db.read() as session:
            return [row.household for row in households.confirmed(session, person.phone, estate_id)]

    # --- the estate's QR poster, for the company's staff to print ---------------------------

    @endpoint("GET", "/api/v1/estates/<string:estate_id>/qr.svg")
    def estate_qr(self, request: Request, estate_id: str) -> Response:
        """The poster of one of the company's own estates (another company's: 404)."""
        tenant, _ = self._tenant(request)
        estate = next((e for e in self._call("requests", "list_estates", tenant) if e["id"] == estate_id), None)
        if estate is None:
            raise NotFound(f"estate {estate_id} not found")
        base = str(self.config.get("PUBLIC_BASE_URL") or "")
        url = qr.estate_url(base or request.host_url, estate_id)
        response = Response(qr.poster_svg(url, estate["name"]), mimetype="image/svg+xml")
        response.headers["Content-Disposition"] = f'inline; filename="estate-{estate_id}.svg"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # --- the estate's page ---------------------------------------------------------------

    @endpoint("GET", "/e/<string:estate_id>")
    def estate_page(self, request: Request, estate_id: str) -> Response:
        person = self._person(request)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        return self._estate_page(person, estate, notice=NOTICES.get(request.args.get("done", ""), ""))

    def _estate_page(
        self,
        person: sessions.SignedIn | None,
        estate: dict,
        status: int = 200,
        claim_error: str = "",
        typed: str = "",
        notice: str = "",
    ) -> Response:
        rows = self._my_households(person, estate["id"]) if person else []  # one read: confirmed and claims
        mine = sorted(row["household"] for row in rows if row["status"] == "confirmed")
        claims = [row for row in rows if row["status"] != "confirmed"]
        return person_page(
            "resident_estate.html", person, status, estate=estate, mine=mine, claims=claims,
            claim_error=claim_error, typed=typed, notice=notice,
        )  # fmt: skip

    # --- claim a household: the community's supervisor confirms it -------------------------

    @endpoint("POST", "/e/<string:estate_id>/households")
    def claim_household(self, request: Request, estate_id: str) -> Response:
        """I live in this household: a pending claim the community's supervisor confirms or rejects.

        Only the community can confirm it (never the company): until then my votes and sign-ups
        wait and my ratings do not count in the league.
        """
        person = self._require_person(request)
        self._check_csrf(request, person)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        typed = (request.form.get("household") or "").strip()
        try:
            claim = self._claim_household(person, estate["tenant"], estate_id, typed)
        except ValidationFailed as exc:
            message = flat_errors(exc.errors).get("household") or zh(exc.detail)
            return self._estate_page(person, estate, 422, claim_error=message, typed=typed)
        if claim["status"] == "confirmed":
            return see_other(f"/e/{estate_id}")
        return see_other(f"/e/{estate_id}?done=claim")

    # --- report a case -------------------------------------------------------------------

    def _report_form(
        self,
        person: sessions.SignedIn,
        estate: dict,
        form: dict[str, str],
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        categories = [c for c in self._call("requests", "list_categories", estate["tenant"]) if c["active"]]
        mine = self._mine(person, estate["id"])
        return person_page(
            "resident_report.html", person, status, estate=estate, categories=categories, mine=mine,
            form=form, errors=errors or {},
        )  # fmt: skip

    @endpoint("GET", "/e/<string:estate_id>/report")
    def report_form(self, request: Request, estate_id: str) -> Response:
        person = self._require_person(request)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        return self._report_form(person, estate, {})

    @endpoint("POST", "/e/<string:estate_id>/report", body_limit="MAX_UPLOAD_BODY_BYTES")
    def report(self, request: Request, estate_id: str) -> Response:
        person = self._require_person(request)
        self._check_csrf(request, person)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        form = {name: (request.form.get(name) or "").strip() for name in REPORT_FIELDS}
        confirmed, register_error = self._household_check(person, estate_id, form["household"])
        payload = {
            "estate_id": estate_id,
            "category": form["category"],
            "title": form["title"],
            "description": form["description"],
            "channel": "resident_page",
            "reporter": {"name": form["name"] or DEFAULT_NAME, "phone": person.phone, "household": form["household"]},
            "household_confirmed": confirmed,
        }
        # Every field's message at once: the service's own schema (the service checks again on submit).
        errors = flat_errors(CaseCreateSchema().validate(payload))
        if not form["category"]:
            errors["category"] = "请选择类别"
        if register_error and "household" not in errors:
            errors["household"] = register_error
        if errors:
            return self._report_form(person, estate, form, errors, 422)
        actor = f"resident:{person.person_id}"
        try:
            records = self.store_photos(estate["tenant"], request.files.getlist(PHOTO_FIELD))
        except ValidationFailed as exc:
            return self._report_form(person, estate, form, flat_errors(exc.errors), 422)
        try:
            case = self.record_photos(records, "submit_case", estate["tenant"], payload, actor, records)
        except ValidationFailed as exc:
            return self._report_form(person, estate, form, flat_errors(exc.errors), 422)
        return see_other(f"/me/cases/{case['id']}")

    def _household_check(self, person: sessions.SignedIn, estate_id: str, household: str) -> tuple[bool, str]:
        """(whether the register confirms this phone in ``household``, the field's error if any).

        The error: the estate's register (once the community has one) knows no such household.
        A resident the community has not confirmed (yet) may still report: the household is
        recorded as they gave it and the case's history says so (``household_confirmed``: false),
        because a leaking pipe should not wait for the register.
        """
        if not household:
            return False, ""  # the schema's "must not be blank"
        with self.db.read() as session:
            if households.is_member(session, person.phone, estate_id, household):
                return True, ""
            known = households.in_register(session, estate_id, household)
        return False, NOT_IN_REGISTER if known is False else ""

    # --- my pages ------------------------------------------------------------------------

    @endpoint("GET", "/me")
    def my_page(self, request: Request) -> Response:
        person = self._require_person(request)
        with self.db.read() as session:
            rows = households.confirmed(session, person.phone)
        estates = []
        for estate_id in dict.fromkeys(row.estate_id for row in rows):
            estate = self._estate(estate_id)
            if estate is not None:
                estates.append(estate | {"households": [r.household for r in rows if r.estate_id == estate_id]})
        return person_page("resident_me.html", person, estates=estates, phone=mask_phone(person.phone))

    @endpoint("GET", "/me/cases")
    def my_cases(self, request: Request) -> Response:
        person = self._require_person(request)
        query = {"starting_after": request.args["starting_after"]} if request.args.get("starting_after") else {}
        try:
            found = self._call("requests", "reporter_cases", person.phone, query)
        except ValidationFailed:
            found = self._call("requests", "reporter_cases", person.phone, {})
        cards = [resident_views.case_card(case) for case in found["data"]]
        more = found["data"][-1]["id"] if found["has_more"] else None
        return person_page("resident_cases.html", person, cases=cards, more=more)

    def _my_case(self, person: sessions.SignedIn, case_id: str) -> dict | None:
        try:
            return self._call("requests", "reporter_case", person.phone, case_id)
        except NotFound:
            return None

    def _case_page(self, person: sessions.SignedIn, case: dict, status: int = 200, **context: Any) -> Response:
        visits = self._call("volunteers", "visits_for_case", case["tenant"], case["id"])
        try:
            survey = self._resident_survey(case["tenant"], case["id"])
        except NotFound:
            survey = None  # none issued yet (or still inside the company's link delay)
        return person_page(
            "resident_case.html", person, status, case=case, card=resident_views.case_card(case),
            steps=resident_views.timeline(case["history"]), replies=resident_views.replies(case["comments"]),
            visit=resident_views.visit_state(visits), reply_error=context.pop("reply_error", ""),
            reply=context.pop("reply", ""), survey=survey, survey_errors=context.pop("survey_errors", {}),
            labels=LABELS, notice=context.pop("notice", NOTICES.get(context.pop("done", ""), "")), **context,
        )  # fmt: skip

    @endpoint("GET", "/me/cases/<string:case_id>")
    def my_case(self, request: Request, case_id: str) -> Response:
        person = self._require_person(request)
        case = self._my_case(person, case_id)
        if case is None:
            return self._missing(person, "诉求")
        return self._case_page(person, case, done=request.args.get("done", ""))

    @endpoint("GET", "/me/cases/<string:case_id>/photos/<string:photo_id>")
    def my_photo(self, request: Request, case_id: str, photo_id: str) -> Response:
        """A photo of my own case (published or not); any other is not found."""
        person = self._require_person(request)
        case = self._my_case(person, case_id)
        if case is None or photo_id not in case["photo_ids"]:
            return self._missing(person, "照片")
        return self._image(self._call("requests", "photo_of", case["tenant"], case_id, photo_id), "private, no-store")

    @endpoint("POST", "/me/cases/<string:case_id>/replies")
    def my_reply(self, request: Request, case_id: str) -> Response:
        person = self._require_person(request)
        self._check_csrf(request, person)
        case = self._my_case(person, case_id)
        if case is None:
            return self._missing(person, "诉求")
        body = {"body": request.form.get("body", ""), "author_role": "resident", "visibility": "public"}
        try:
            self._call("requests", "add_comment", case["tenant"], case_id, body, f"resident:{person.person_id}")
        except ValidationFailed as exc:
            error = flat_errors(exc.errors).get("body", "请填写回复内容")
            return self._case_page(person, case, 422, reply_error=error, reply=body["body"])
        return see_other(f"/me/cases/{case_id}#replies")

    @endpoint("POST", "/me/cases/<string:case_id>/survey")
    def my_survey(self, request: Request, case_id: str) -> Response:
        """Rate my closed case here, signed in: the answer counts as verified when the community
        confirmed me in its household (h3's ``answer_for_case``); once only."""
        person = self._require_person(request)
        self._check_csrf(request, person)
        case = self._my_case(person, case_id)
        if case is None:
            return self._missing(person, "诉求")
        payload = {key: value for key, value in form_answer(request).items() if key != "csrf"}
        try:
            self._answer_for_case_as(person, case["tenant"], case_id, payload, fingerprint(request))
        except NotFound:
            return self._missing(person, "问卷")
        except Forbidden as exc:
            return self._case_page(person, case, 403, notice=zh(exc.detail))
        except Conflict:
            return self._case_page(person, case, 409, notice="您已评价过这件事，感谢反馈。")
        except Gone as exc:
            return self._case_page(person, case, 410, notice=zh(exc.detail))
        except ValidationFailed as exc:
            return self._case_page(person, case, 422, survey_errors=flat_errors(exc.errors))
        return see_other(f"/me/cases/{case_id}?done=survey")

    @endpoint("GET", "/me/inbox")
    def my_inbox(self, request: Request) -> Response:
        person = self._require_person(request)
        query = {"starting_after": request.args["starting_after"]} if request.args.get("starting_after") else {}
        try:
            found = self._call("notifications", "resident_inbox", person.phone, query)
        except ValidationFailed:
            found = self._call("notifications", "resident_inbox", person.phone, {})
        messages = [
            m | {"when": resident_views.when(m["created_at"]), "parts": resident_views.linked(m["body"])}
            for m in found["data"]
        ]
        more = found["data"][-1]["id"] if found["has_more"] else None
        return person_page("resident_inbox.html", person, messages=messages, more=more)

    # --- owners' proposals (让业主议事) ----------------------------------------------------

    @endpoint("GET", "/e/<string:estate_id>/proposals")
    def proposals_page(self, request: Request, estate_id: str) -> Response:
        person = self._require_person(request)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        found = self._call("requests", "list_proposals", estate["tenant"], {"estate_id": estate_id, "limit": 50})
        items = [resident_views.proposal_item(p) for p in found["data"]]
        return person_page("resident_proposals.html", person, estate=estate, proposals=items)

    def _proposal(self, estate: dict, proposal_id: str) -> dict | None:
        """The proposal if it is this estate's (another estate's, or a made-up id: None)."""
        try:
            proposal = self._call("requests", "get_proposal", estate["tenant"], proposal_id)
        except (NotFound, ValidationFailed):
            return None
        return proposal if proposal["estate_id"] == estate["id"] else None

    def _proposal_page(
        self, person: sessions.SignedIn, estate: dict, proposal: dict, status: int = 200, notice: str = "",
        error: str = "",
    ) -> Response:  # fmt: skip
        """My confirmed households of the estate: how each already voted, and a form for the rest."""
        mine = self._mine(person, estate["id"])
        votes = self._call("requests", "household_votes", estate["tenant"], proposal["id"], mine) if mine else {}
        return person_page(
            "resident_proposal.html", person, status, estate=estate, proposal=resident_views.proposal_item(proposal),
            mine=mine, notice=notice, error=error, choices=resident_views.CHOICE,
            voted={household: resident_views.CHOICE.get(choice, choice) for household, choice in votes.items()},
            open_households=[household for household in mine if household not in votes],
        )  # fmt: skip

    @endpoint("GET", "/e/<string:estate_id>/proposals/<string:proposal_id>")
    def proposal_page(self, request: Request, estate_id: str, proposal_id: str) -> Response:
        person = self._require_person(request)
        estate = self._estate(estate_id)
        proposal = self._proposal(estate, proposal_id) if estate else None
        if proposal is None:
            return self._missing(person, "议题")
        return self._proposal_page(person, estate, proposal, notice=NOTICES.get(request.args.get("done", ""), ""))

    @endpoint("POST", "/e/<string:estate_id>/proposals/<string:proposal_id>/vote")
    def proposal_vote(self, request: Request, estate_id: str, proposal_id: str) -> Response:
        """One vote per household, for a household the register confirmed for me (h3's helper):
        a second phone of the household gets 409 本户已投票 and the first vote stands."""
        person = self._require_person(request)
        self._check_csrf(request, person)
        estate = self._estate(estate_id)
        proposal = self._proposal(estate, proposal_id) if estate else None
        if proposal is None:
            return self._missing(person, "议题")
        choice = request.form.get("choice") or None
        household = request.form.get("household") or None
        try:
            self._vote_as_resident(person, estate["tenant"], proposal_id, choice, household)
        except Forbidden as exc:
            own = exc.detail == OWN_COMPANY
            message = zh(exc.detail) if own else "投票以户为单位：请先由社区确认您的住户身份。"
            return self._proposal_page(person, estate, proposal, 403, error=message)
        except Conflict as exc:
            closed = "closed" in exc.detail
            message = "投票已结束。" if closed else "本户已投票，每户只能投一票。"
            return self._proposal_page(person, estate, proposal, 409, error=message)
        except ValidationFailed as exc:
            errors = flat_errors(exc.errors)
            message = "请选择赞成、反对或弃权。" if "choice" in errors else "；".join(errors.values())
            return self._proposal_page(person, estate, proposal, 422, error=message)
        return see_other(f"/e/{estate_id}/proposals/{proposal_id}?done=vote")

    # --- activities ------------------------------------------------------------------------

    def _activities_page(
        self, request: Request, person: sessions.SignedIn, estate: dict, status: int = 200, notice: str = ""
    ) -> Response:
        params = {"week_of": request.args["week_of"]} if request.args.get("week_of") else {}
        try:
            week = self._call("volunteers", "estate_calendar", estate["tenant"], estate["id"], params)
        except ValidationFailed:
            week = self._call("volunteers", "estate_calendar", estate["tenant"], estate["id"], {})
        mine = self._mine(person, estate["id"])
        found = [a for day in week["days"] for a in day["activities"]]
        signups = {}
        if mine:
            ids = [a["id"] for a in found]
            for signup in self._call("volunteers", "household_signups", estate["tenant"], mine[0], ids):
                signups[signup["activity_id"]] = signup
        days = [
            {"label": resident_views.day(day["date"]),
             "entries": [resident_views.activity_item(a, signups.get(a["id"])) for a in day["activities"]]}
            for day in week["days"] if day["activities"]
        ]  # fmt: skip
        monday = date.fromisoformat(week["week_start"])
        return person_page(
            "resident_activities.html", person, status, estate=estate, days=days, mine=mine, notice=notice,
            week=week, prev_week=(monday - timedelta(days=7)).isoformat(),
            next_week=(monday + timedelta(days=7)).isoformat(),
        )  # fmt: skip

    @endpoint("GET", "/e/<string:estate_id>/activities")
    def activities_page(self, request: Request, estate_id: str) -> Response:
        person = self._require_person(request)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        return self._activities_page(request, person, estate)

    @endpoint("POST", "/e/<string:estate_id>/activities/<string:activity_id>/signup")
    def activity_signup(self, request: Request, estate_id: str, activity_id: str) -> Response:
        person = self._require_person(request)
        self._check_csrf(request, person)
        estate = self._estate(estate_id)
        if estate is None:
            return self._missing(person, "小区")
        mine = self._mine(person, estate_id)
        if not mine:
            notice = "报名以户为单位：请先由社区确认您的住户身份。"
            return self._activities_page(request, person, estate, 403, notice)
        household = mine[0]
        signup = {"name": f"{household} 住户", "phone": person.phone, "household": household}
        try:
            self._call("volunteers", "sign_up_resident", estate["tenant"], activity_id, signup)
        except NotFound:
            return self._missing(person, "活动")
        except Conflict as exc:
            return self._activities_page(request, person, estate, 409, zh(exc.detail))
        return see_other(f"/e/{estate_id}/activities")

    @endpoint("POST", "/e/<string:estate_id>/activities/<string:activity_id>/signups/<string:signup_id>/cancel")
    def activity_cancel(self, request: Request, estate_id: str, activity_id: str, signup_id: str) -> Response:
        person = self._require_person(request)
        self._check_csrf(request, person)
        estate = self._estate(estate_id)
        mine = self._mine(person, estate_id) if estate else []
        own = self._call("volunteers", "household_signups", estate["tenant"], mine[0], [activity_id]) if mine else []
        if estate is None or signup_id not in {s["id"] for s in own}:
            return self._missing(person, "报名")  # another household's sign-up is not found, as a made-up one
        try:
            self._call("volunteers", "cancel_resident_signup", estate["tenant"], activity_id, signup_id)
        except Conflict as exc:
            return self._activities_page(request, person, estate, 409, zh(exc.detail))
        return see_other(f"/e/{estate_id}/activities")


ESTATE = path_id("estate_id")


PAGE_ESTATE = page_id("estate_id")
CASE = page_id("case_id")
WEEK_OF = Param("week_of", "query", "any date of the week (YYYY-MM-DD)", schema={"type": "string"})
PAGE_ROUTE = {"auth": False, "content": "text/html", "tag": "residents"}
NEXT = Param("starting_after", "query", "the last id of the previous page", schema={"type": "string"})

ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/v1/estates/{estate_id}/qr.svg", "The estate's printable QR poster (opens /e/{estate_id})",
          None, params=(ESTATE,), errors=(404,), content="image/svg+xml", tag="estates"),
    Route("GET", "/e/{estate_id}", "The estate's page (what its QR code opens)", None, params=(PAGE_ESTATE,),
          errors=(404,), **PAGE_ROUTE),
    Route("POST", "/e/{estate_id}/households", "Claim my household in this estate (form with csrf); the "
          "community's supervisor confirms it", None, 303, params=(PAGE_ESTATE,), errors=(403, 404, 422), **PAGE_ROUTE),
    Route("GET", "/e/{estate_id}/report", "Report a case: the form (sign-in needed)", None, params=(PAGE_ESTATE,),
          errors=(303, 404), **PAGE_ROUTE),
    Route("POST", "/e/{estate_id}/report", "Report a case (multipart, csrf, up to 3 photos); 303 to it", None, 303,
          params=(PAGE_ESTATE,), errors=(403, 404, 413, 422), **PAGE_ROUTE),
    Route("GET", "/me", "My page: my households and links (sign-in needed)", None, errors=(303,), **PAGE_ROUTE),
    Route("GET", "/me/cases", "My cases with every company, newest first", None, params=(NEXT,), errors=(303,),
          **PAGE_ROUTE),
    Route("GET", "/me/cases/{case_id}", "My case: progress, replies, follow-up visit, survey", None,
          params=(CASE,), errors=(303, 404), **PAGE_ROUTE),
    Route("GET", "/me/cases/{case_id}/photos/{photo_id}", "A photo of my case", None,
          params=(CASE, page_id("photo_id")), errors=(303, 404), auth=False, content="image/jpeg", tag="residents"),
    Route("POST", "/me/cases/{case_id}/survey", "Rate my closed case (form with csrf), once", None, 303,
          params=(CASE,), errors=(403, 404, 409, 410, 422), **PAGE_ROUTE),
    Route("POST", "/me/cases/{case_id}/replies", "Reply on my case (form with csrf); 303 back", None, 303,
          params=(CASE,), errors=(403, 404, 422), **PAGE_ROUTE),
    Route("GET", "/me/inbox", "My inbox with every company", None, params=(NEXT,), errors=(303,), **PAGE_ROUTE),
    Route("GET", "/e/{estate_id}/proposals", "The estate's owners' proposals", None, params=(PAGE_ESTATE,),
          errors=(303, 404), **PAGE_ROUTE),
    Route("GET", "/e/{estate_id}/proposals/{proposal_id}", "A proposal: vote while open, the result once closed",
          None, params=(PAGE_ESTATE, page_id("proposal_id")), errors=(303, 404), **PAGE_ROUTE),
    Route("POST", "/e/{estate_id}/proposals/{proposal_id}/vote", "Vote for my household (form with csrf), once",
          None, 303, params=(PAGE_ESTATE, page_id("proposal_id")), errors=(403, 404, 409, 422), **PAGE_ROUTE),
    Route("GET", "/e/{estate_id}/activities", "The estate's activities this week, my sign-ups", None,
          params=(PAGE_ESTATE, WEEK_OF), errors=(303, 404),
          **PAGE_ROUTE),
    Route("POST", "/e/{estate_id}/activities/{activity_id}/signup", "Sign my household up (form with csrf)",
          None, 303, params=(PAGE_ESTATE, page_id("activity_id")), errors=(403, 404, 409), **PAGE_ROUTE),
    Route("POST", "/e/{estate_id}/activities/{activity_id}/signups/{signup_id}/cancel",
          "Cancel my household's sign-up (form with csrf)", None, 303,
          params=(PAGE_ESTATE, page_id("activity_id"), page_id("signup_id")), errors=(403, 404, 409), **PAGE_ROUTE),
)  # fmt: skip
