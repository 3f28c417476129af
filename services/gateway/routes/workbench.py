"""The workbench: company staff work their company's cases in a browser (zh-CN, no JavaScript).

Staff sign in as residents do (``/signin``, the ``lx_session`` cookie; no API key in a cookie);
what they may do comes from their membership (:mod:`services.gateway.staff`). Every page reads
and changes cases through the same RPCs as the API, with the membership's company as the tenant,
so another company's case is a 404 exactly as over the API. Every change is recorded with the
person (``staff:<person id>/<name>``). Every form carries the session's CSRF token (403 page and
nothing changed without it); a transition carries the case's ``updated_at`` as read, and a case
that moved meanwhile answers 409 with the page saying so, nothing changed.
"""

from __future__ import annotations

from urllib.parse import urlencode

from marshmallow import ValidationError
from werkzeug.wrappers import Request, Response

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, Stale, ValidationFailed
from services.common.fields import mainland_mobile
from services.gateway import staff, workbench_actions
from services.gateway.apidoc import Param, Route, page_id
from services.gateway.http import Answered, endpoint
from services.gateway.people import MAX_AGE, PeopleRoutes, see_other
from services.gateway.routes.photos import PhotoRoutes
from services.gateway.sessions import SignedIn
from services.gateway.workbench import (
    ACTION_NAMES,
    field_errors,
    queue_query,
    sla_badge,
    workbench_page,
)

MAX_ID = 64
STALE = "案件已被他人更新（状态或内容已变化），您的操作没有生效。请查看最新情况后再操作。"
ACTING_COOKIE = "lx_acting"  # which of their memberships the person acts as: a choice, checked on every request
DONE = {"comment": "已添加", "invited": "已邀请", "revoked": "已撤销"}


def raised(answer: object) -> object:
    """An answer of ``_call_together``, or the error it stands for raised."""
    if isinstance(answer, Exception):
        raise answer
    return answer


class WorkbenchRoutes(PeopleRoutes, PhotoRoutes):
    # --- who is at the workbench ----------------------------------------------------------

    def _memberships(self, request: Request) -> tuple[SignedIn, list[staff.Membership]]:
        """The signed-in person and their live memberships, the one chosen at the switcher first, then
        companies'; else stop: 303 to
        /signin when not signed in, a 403 page saying how to get access when they have none."""
        person = self._require_person(request)
        with self.db.read() as session:
            found = staff.memberships_of(session, person.person_id)
        if not found:
            raise Answered(workbench_page("workbench_none.html", person, None, 403))
        return person, staff.acting_first(found, request.cookies.get(ACTING_COOKIE))

    def _at_workbench(self, request: Request, company: bool = True) -> tuple[SignedIn, staff.Membership]:
        """The person and the membership they act as: their company's (the first, when they are staff
        of several); with ``company=False`` a community's will do when they have no company."""
        person, found = self._memberships(request)
        chosen = [m for m in found if m.tenant_id] if company else found
        if not chosen:
            raise Answered(workbench_page("workbench_none.html", person, found[0], 403))
        return person, workbench_actions.acting(request, chosen[0])

    def _workbench_message(
        self, person: SignedIn, member: staff.Membership, status: int, heading: str, text: str
    ) -> Response:
        return workbench_page("workbench_message.html", person, member, status, heading=heading, message=text)

    def _missing_case(self, person: SignedIn, member: staff.Membership) -> Response:
        return self._workbench_message(person, member, 404, "没有找到这个案件", "案件不存在，或不属于您的公司。")

    @endpoint("POST", "/workbench/switch")
    def workbench_switch(self, request: Request) -> Response:
        """Act as another of the person's memberships (staff of two companies, or staff and the party
        branch's supervisor): remembered in a cookie that names a membership, never grants one."""
        person, found = self._memberships(request)
        self._check_csrf(request, person)
        chosen = next((m for m in found if m.id == request.form.get("membership", "")), None)
        if chosen is None:
            return self._workbench_message(person, found[0], 404, "没有找到这个身份", "您没有这个身份，或它已被撤销。")
        response = see_other("/workbench" if chosen.tenant_id else "/workbench/branch")
        response.set_cookie(
            ACTING_COOKIE, chosen.id, max_age=MAX_AGE, httponly=True, samesite="Lax", path="/workbench",
            secure=self._secure_cookies(),
        )  # fmt: skip
        return response

    # --- the queue ------------------------------------------------------------------------

    @endpoint("GET", "/workbench")
    def workbench_queue(self, request: Request) -> Response:
        person, member = self._at_workbench(request, company=False)
        if member.tenant_id is None:  # a supervisor only: the party branch's view (routes/workbench_branch.py)
            return see_other("/workbench/branch")
        args = request.args.to_dict()
        query = queue_query(args, args.get("starting_after"))
        errors: dict[str, str] = {}
        every_status = {k: v for k, v in query.items() if k not in ("limit", "starting_after", "status")}
        answers = self._call_together(  # independent answers: the page waits for the slowest, not their sum
            ("requests", "list_cases", member.tenant_id, query, True),  # brief: the rows show no history
            ("requests", "count_cases", member.tenant_id, every_status),
            ("requests", "list_estates", member.tenant_id),
            ("requests", "list_categories", member.tenant_id),
        )
        try:
            found, counts = raised(answers[0]), raised(answers[1])
        except ValidationFailed as exc:
            errors = field_errors(exc.errors)
            found, counts = {"data": [], "has_more": False}, None
        estates, categories = raised(answers[2]), raised(answers[3])
        now = utcnow()
        rows = [case | {"badge": sla_badge(case, now)} for case in found["data"]]
        kept = {k: v for k, v in args.items() if k != "starting_after" and v}
        next_page = None
        if found["has_more"] and rows:
            next_page = "/workbench?" + urlencode(kept | {"starting_after": rows[-1]["id"]})
        others = {k: v for k, v in kept.items() if k != "status"}
        status_link = {
            s: "/workbench?" + urlencode(others | {"status": s}) for s in (counts or {}).get("by_status", {})
        }
        return workbench_page(
            "workbench_queue.html", person, member, 422 if errors else 200,
            cases=rows, counts=counts, status_link=status_link, all_link="/workbench?" + urlencode(others), args=args,
            errors=errors, next_page=next_page,
            estates=estates, categories=categories, refresh=not errors,
        )  # fmt: skip

    # --- one case -------------------------------------------------------------------------

    def _workbench_case_page(
        self, person: SignedIn, member: staff.Membership, case: dict, status: int = 200, **shown: object
    ) -> Response:
        tenant, case_id = member.tenant_id, case["id"]
        with self.db.read() as session:
            people = staff.members(session, tenant_id=tenant)
        return workbench_page(
            "workbench_case.html", person, member, status, case=case, badge=sla_badge(case, utcnow()),
            audit=self._call("requests", "case_audit", tenant, case_id),
            comments=self._call("requests", "list_comments", tenant, case_id, {}),
            photos=self._call("requests", "list_photos", tenant, case_id),
            visits=self._call("volunteers", "visits_for_case", tenant, case_id),
            surveys=self._call("surveys", "surveys_for_case", tenant, case_id),
            staff_names=[m.name for m in people],
            category_names={c["code"]: c["name"] for c in self._call("requests", "list_categories", tenant)},
            done=shown.pop("done", None), **shown,
        )  # fmt: skip

    def _company_case(self, person: SignedIn, member: staff.Membership, case_id: str) -> dict:
        """The company's case, or stop with the 404 page (another company's is not found either)."""
        if len(case_id) > MAX_ID:
            raise Answered(self._missing_case(person, member))
        try:
            return self._call("requests", "get_case", member.tenant_id, case_id)
        except NotFound:
            raise Answered(self._missing_case(person, member)) from None

    @endpoint("GET", "/workbench/cases/<string:case_id>")
    def workbench_case(self, request: Request, case_id: str) -> Response:
        person, member = self._at_workbench(request)
        case = self._company_case(person, member, case_id)
        return self._workbench_case_page(person, member, case, done=DONE.get(request.args.get("done", ""))
                               or ACTION_NAMES.get(request.args.get("done", "")))  # fmt: skip

    @endpoint("POST", "/workbench/cases/<string:case_id>/transitions")
    def workbench_transition(self, request: Request, case_id: str) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        case = self._company_case(person, member, case_id)
        form = request.form
        action = form.get("action", "")
        payload = {
            "action": action,
            "note": form.get("note", "").strip() or None,
            "assignee": form.get("assignee", "").strip() or None,
            "assignee_kind": form.get("assignee_kind") or None,
            "source": "staff",
            "if_updated_at": form.get("seen") or None,
        }
        typed = {"action": action, "note": form.get("note", ""), "assignee": form.get("assignee", "")}
        try:
            self._call("requests", "transition", member.tenant_id, case_id, payload, member.actor)
        except Stale:
            fresh = self._company_case(person, member, case_id)
            return self._workbench_case_page(person, member, fresh, 409, error=STALE, typed=typed)
        except ValidationFailed as exc:
            return self._workbench_case_page(person, member, case, 422, errors=field_errors(exc.errors), typed=typed)
        except Conflict as exc:
            return self._workbench_case_page(
                person, member, case, 409, error=f"无法{ACTION_NAMES.get(action, action)}：{exc.detail}"
            )
        return see_other(f"/workbench/cases/{case_id}?done={action}")

    @endpoint("POST", "/workbench/cases/<string:case_id>/comments")
    def workbench_comment(self, request: Request, case_id: str) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        case = self._company_case(person, member, case_id)
        body = {"body": request.form.get("body", "").strip(), "visibility": request.form.get("visibility", "public")}
        try:
            self._call("requests", "add_comment", member.tenant_id, case_id, body, member.actor)
        except ValidationFailed as exc:
            errors = field_errors(exc.errors)
            errors.setdefault("body", errors.pop("visibility", "请填写内容"))
            return self._workbench_case_page(person, member, case, 422, comment_errors=errors, comment=body)
        return see_other(f"/workbench/cases/{case_id}?done=comment#comments")

    @endpoint("GET", "/workbench/cases/<string:case_id>/photos/<string:photo_id>")
    def workbench_photo(self, request: Request, case_id: str, photo_id: str) -> Response:
        person, member = self._at_workbench(request)
        case = self._company_case(person, member, case_id)
        try:
            found = self._call("requests", "photo_of", member.tenant_id, case["id"], photo_id)
        except NotFound:
            return self._workbench_message(person, member, 404, "没有找到这张照片", "照片不存在。")
        return self._image(found, "private, no-store")

    # --- people: an admin's company staff, a supervisor's community supervisors -------------

    def _people_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        with self.db.read() as session:
            found = (
                staff.members(session, tenant_id=member.tenant_id)
                if member.tenant_id
                else staff.members(session, community=member.community)
            )
        roles = staff.COMPANY_ROLES if member.tenant_id else staff.COMMUNITY_ROLES
        return workbench_page("workbench_staff.html", person, member, status, members=found, roles=roles, **shown)

    def _people_admin(self, request: Request) -> tuple[SignedIn, staff.Membership]:
        """The person's first admin membership (a company's admin, else a community's supervisor), or a 403 page."""
        person, found = self._memberships(request)
        admins = [m for m in found if m.is_admin]
        if not admins:
            raise Answered(self._workbench_message(person, found[0], 403, "没有权限", "只有管理员可以管理人员。"))
        return person, workbench_actions.acting(request, admins[0])

    @endpoint("GET", "/workbench/settings/staff")
    def workbench_staff(self, request: Request) -> Response:
        person, member = self._people_admin(request)
        return self._people_page(person, member, done=DONE.get(request.args.get("done", "")))

    @endpoint("GET", "/workbench/settings/actions")
    def workbench_actions_page(self, request: Request) -> Response:
        """Who changed what at the workbench, newest first (the company's; a supervisor: the community's)."""
        person, member = self._people_admin(request)
        with self.db.read() as session:
            found = workbench_actions.recent(session, member)
        return workbench_page("workbench_settings_actions.html", person, member, actions=found)

    @endpoint("POST", "/workbench/settings/staff")
    def workbench_invite(self, request: Request) -> Response:
        person, member = self._people_admin(request)
        self._check_csrf(request, person)
        typed = {key: request.form.get(key, "").strip() for key in ("phone", "name", "role")}
        errors: dict[str, str] = {}
        try:
            phone = mainland_mobile(typed["phone"])
        except ValidationError:
            errors["phone"] = "请输入正确的中国大陆手机号码"
        if not staff.may_invite(member, typed["role"]):
            errors["role"] = "请选择角色"
        if not 1 <= len(typed["name"]) <= 50:
            errors["name"] = "请填写姓名（1–50 字）"
        if errors:
            return self._people_page(person, member, 422, errors=errors, typed=typed)
        try:
            with self.db.transaction() as session:
                staff.invite(
                    session, phone, typed["name"], typed["role"], member.actor, utcnow(),
                    tenant_id=member.tenant_id, community=None if member.tenant_id else member.community,
                )  # fmt: skip
        except Conflict:
            return self._people_page(person, member, 409, errors={"phone": "这个手机号已是成员"}, typed=typed)
        return see_other("/workbench/settings/staff?done=invited")

    @endpoint("POST", "/workbench/settings/staff/<string:membership_id>/revoke")
    def workbench_revoke(self, request: Request, membership_id: str) -> Response:
        person, member = self._people_admin(request)
        self._check_csrf(request, person)
        try:
            with self.db.transaction() as session:
                staff.revoke(session, member, membership_id, utcnow())
        except NotFound:
            return self._workbench_message(person, member, 404, "没有找到这位成员", "成员不存在，或不属于您的公司。")
        except Conflict as exc:
            return self._people_page(person, member, 409, error=exc.detail.split(" (")[0])
        return see_other("/workbench/settings/staff?done=revoked")


SESSION = Param("lx_session", "cookie", "set by signing in (/signin)", schema={"type": "string"})
CASE = page_id("case_id")  # a page's id: an unknown one is a 404 page, before sign-in a 303


def _page(method: str, path: str, summary: str, *args: object, **kwargs: object) -> Route:
    """A documented workbench page: HTML, the session cookie instead of an API key."""
    defaults: dict = {"auth": False, "content": "text/html", "tag": "workbench"}
    kwargs["params"] = (*kwargs.get("params", ()), SESSION)  # type: ignore[misc]
    return Route(method, path, summary, *args, **(defaults | kwargs))  # type: ignore[arg-type]


ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench", "Staff: my company's cases with filters (status, category, estate_id, assignee, "
          "priority, overdue, escalated, created_from/to as dates, q), counts per status and an SLA badge",
          errors=(303, 403, 422)),
    _page("GET", "/workbench/cases/{case_id}", "Staff: a case with its timeline, photos, comments, visit, survey "
          "and the actions it allows now", params=(CASE,), errors=(303, 403, 404)),
    _page("POST", "/workbench/cases/{case_id}/transitions", "Staff: take an allowed action (form: csrf, action, "
          "note, assignee, assignee_kind, seen = the case's updated_at as shown); 409 if the case moved meanwhile",
          None, 303, params=(CASE,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/cases/{case_id}/comments", "Staff: a public reply or an internal note (form: csrf, "
          "body, visibility)", None, 303, params=(CASE,), errors=(403, 404, 422)),
    _page("GET", "/workbench/cases/{case_id}/photos/{photo_id}", "Staff: a photo of the company's case",
          params=(CASE, page_id("photo_id")), errors=(303, 403, 404), content="image/jpeg"),
    _page("POST", "/workbench/switch", "Staff with several memberships: act as another (form: csrf, membership)",
          None, 303, errors=(403, 404)),
    _page("GET", "/workbench/settings/staff", "Admins: the company's staff (supervisors: the community's)",
          errors=(303, 403)),
    _page("GET", "/workbench/settings/actions", "Admins: the newest 100 changes made at the workbench, each with "
          "the person who made it (supervisors: the community's)", errors=(303, 403)),
    _page("POST", "/workbench/settings/staff", "Admins: invite by phone, name and role (form: csrf)", None, 303,
          errors=(403, 409, 422)),
    _page("POST", "/workbench/settings/staff/{membership_id}/revoke", "Admins: revoke a membership (form: csrf)",
          None, 303, params=(page_id("membership_id"),), errors=(403, 404, 409)),
)  # fmt: skip
