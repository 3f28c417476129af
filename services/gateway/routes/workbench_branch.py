"""The party branch's view at the workbench (党支部督办): a signed-in supervisor sees every company of
their community and acts in two ways only, an instruction (督办意见) on a case and a decision on a
resident's household claim.

It replaces the old ``/p/dashboard``, which signed in with a supervisor API key kept in a cookie:
the supervisor is now a person (a ``supervisor`` membership, phone sign-in), and every change is
recorded as ``supervisor:<person id>/<name>``. The pages go through what the supervisor's API
goes through: the requests service's community RPCs (``list_community_cases``,
``get_community_case``, ``add_instruction``, ``community_dashboard``) with the community's
companies as the tenants, so another community's case is not found (404), and the register's
``decide`` for claims. The supervisor reads the case's comments as the supervisor's API does,
internal notes included: judging how a company handles a case is the branch's job, and the page
shows no more than the branch's key already reads. The reporter's name and phone are left out
(only the company that handles the case sees them). Company staff get a 403 page here.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.gateway import branch, register, staff, workbench_actions
from services.gateway.apidoc import Route, path_id
from services.gateway.http import Answered, endpoint
from services.gateway.models import Tenant
from services.gateway.people import see_other
from services.gateway.routes.workbench import CASE, MAX_ID, WorkbenchRoutes, _page
from services.gateway.sessions import SignedIn
from services.gateway.workbench import field_errors, sla_badge, workbench_page

#: Cases per list on the branch's page (open escalations; overdue cases of all companies).
LISTED = "100"
DONE = {"instruction": "督办意见已发送", "confirmed": "已确认住户", "rejected": "已驳回申请"}


class BranchRoutes(WorkbenchRoutes):
    # --- who is at the branch's view ------------------------------------------------------

    def _at_branch(self, request: Request) -> tuple[SignedIn, staff.Membership]:
        """The person and their supervisor membership; a 403 page for anyone else (company staff)."""
        person, found = self._memberships(request)
        supervising = [m for m in found if m.role == "supervisor"]
        if not supervising:
            raise Answered(
                self._workbench_message(
                    person, found[0], 403, "没有权限", "党支部督办页面只对社区党支部的督办人员开放。"
                )
            )
        return person, workbench_actions.acting(request, supervising[0])

    def _branch_companies(self, community: str) -> dict[str, str]:
        """tenant id → name, for every company of the community (and its party branch's own tenant)."""
        with self.db.read() as session:
            rows = session.execute(select(Tenant.id, Tenant.name).where(Tenant.community == community))
            return dict(sorted(rows.all()))

    def _branch_estates(self, tenants: list[str]) -> dict[str, dict]:
        """estate id → its name and company, for the companies given."""
        return {
            estate["id"]: {"name": estate["name"], "tenant": tenant}
            for tenant in tenants
            for estate in self._call("requests", "list_estates", tenant)
        }

    @staticmethod
    def _branch_id(value: str) -> str:
        """An id from the path; one longer than any id is not found before anything else is asked
        (before the sign-in too: a documented 404, not a 303 to /signin)."""
        if len(value) > MAX_ID:
            raise NotFound(f"{value[:MAX_ID]}… not found")
        return value

    # --- the view: companies, escalations, overdue cases, household claims ----------------

    def _branch_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        names = self._branch_companies(member.community)
        tenants = sorted(names)
        estates = self._branch_estates(tenants)
        figures = self._call("requests", "community_dashboard", tenants)
        escalated = self._call(
            "requests", "list_community_cases", tenants, {"escalated": "true", "open": "true", "limit": LISTED}
        )
        overdue = self._call("requests", "list_community_cases", tenants, {"overdue": "true", "limit": LISTED})
        with self.db.read() as session:
            claims = register.listing(session, member.community, {"limit": 100}, status="pending")
        now = utcnow()
        rows = branch.companies(names, estates, figures)
        return workbench_page(
            "workbench_branch.html", person, member, status,
            companies=rows, totals=branch.totals(rows), weeks=figures["weeks"],
            escalations=branch.escalations(escalated["data"], names, estates, now),
            more_escalations=escalated["has_more"],
            overdue=branch.overdue_by_company(overdue["data"], names, estates, now), more_overdue=overdue["has_more"],
            claims=claims["data"], estates=estates, **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/branch")
    def workbench_branch(self, request: Request) -> Response:
        person, member = self._at_branch(request)
        return self._branch_page(person, member, done=DONE.get(request.args.get("done", "")))

    # --- one case: read-only, and the instruction ----------------------------------------

    def _branch_case(self, person: SignedIn, member: staff.Membership, case_id: str) -> tuple[dict, list[str]]:
        """The community's case and the community's tenants; the 404 page for any other id."""
        tenants = sorted(self._branch_companies(member.community))
        try:
            return self._call("requests", "get_community_case", tenants, case_id), tenants
        except NotFound:
            raise Answered(
                self._workbench_message(person, member, 404, "没有找到这个案件", "案件不存在，或不属于本社区。")
            ) from None

    def _branch_case_page(
        self, person: SignedIn, member: staff.Membership, case: dict, tenants: list[str], status: int = 200, **shown
    ) -> Response:
        names = self._branch_companies(member.community)
        estates = self._branch_estates(tenants)
        return workbench_page(
            "workbench_branch_case.html", person, member, status,
            case=branch.placed(case, names, estates, utcnow()), badge=sla_badge(case, utcnow()), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/branch/cases/<string:case_id>")
    def workbench_branch_case(self, request: Request, case_id: str) -> Response:
        self._branch_id(case_id)
        person, member = self._at_branch(request)
        case, tenants = self._branch_case(person, member, case_id)
        return self._branch_case_page(person, member, case, tenants, done=DONE.get(request.args.get("done", "")))

    @endpoint("POST", "/workbench/branch/cases/<string:case_id>/instructions")
    def workbench_branch_instruct(self, request: Request, case_id: str) -> Response:
        self._branch_id(case_id)
        person, member = self._at_branch(request)
        self._check_csrf(request, person)
        case, tenants = self._branch_case(person, member, case_id)
        body = request.form.get("body", "").strip()
        try:
            self._call("requests", "add_instruction", tenants, case["id"], {"body": body}, member.actor)
        except ValidationFailed as exc:
            errors = field_errors(exc.errors)
            errors.setdefault("body", "请填写督办意见")
            return self._branch_case_page(person, member, case, tenants, 422, errors=errors, typed=body)
        return see_other(f"/workbench/branch/cases/{case['id']}?done=instruction#instructions")

    # --- household claims: confirm or reject, as the API does -----------------------------

    def _branch_decide(self, request: Request, claim_id: str, confirm: bool) -> Response:
        self._branch_id(claim_id)
        person, member = self._at_branch(request)
        self._check_csrf(request, person)
        try:
            with self.db.transaction() as session:
                register.decide(session, member.community, claim_id, confirm, member.actor, utcnow())
        except NotFound:
            return self._workbench_message(person, member, 404, "没有找到这条申请", "申请不存在，或不属于本社区。")
        except Conflict:
            return self._branch_page(
                person, member, 409, claim_error="这条申请已有结果（已被确认或驳回），您的操作没有生效。"
            )
        return see_other(f"/workbench/branch?done={'confirmed' if confirm else 'rejected'}#claims")

    @endpoint("POST", "/workbench/branch/claims/<string:claim_id>/confirm")
    def workbench_branch_confirm(self, request: Request, claim_id: str) -> Response:
        return self._branch_decide(request, claim_id, True)

    @endpoint("POST", "/workbench/branch/claims/<string:claim_id>/reject")
    def workbench_branch_reject(self, request: Request, claim_id: str) -> Response:
        return self._branch_decide(request, claim_id, False)


CLAIM = path_id("claim_id")

ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench/branch", "Party branch: every company of the community side by side (open, overdue, "
          "escalated), open escalations newest first, overdue cases per company, household claims waiting",
          errors=(303, 403)),
    _page("GET", "/workbench/branch/cases/{case_id}", "Party branch: a case of the community, read-only, with its "
          "history, replies, notes and instructions", params=(CASE,), errors=(303, 403, 404)),
    _page("POST", "/workbench/branch/cases/{case_id}/instructions", "Party branch: an instruction (督办意见) to the "
          "company on the case (form: csrf, body)", None, 303, params=(CASE,), errors=(403, 404, 422)),
    _page("POST", "/workbench/branch/claims/{claim_id}/confirm", "Party branch: confirm a resident's household "
          "claim (form: csrf)", None, 303, params=(CLAIM,), errors=(403, 404, 409)),
    _page("POST", "/workbench/branch/claims/{claim_id}/reject", "Party branch: reject a resident's household claim "
          "(form: csrf)", None, 303, params=(CLAIM,), errors=(403, 404, 409)),
)  # fmt: skip
