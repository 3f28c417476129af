"""The volunteer's own pages: /v (my visits), /v/visits/<id> (accept, decline, complete),
/v/hours and /v/shifts. Server-rendered, zh-CN, phone first, no JavaScript.

Who is a volunteer is the registry's word, never a choice at sign-in: the person signed in
(``/signin``, cookie ``lx_session``) is looked up once per page (``volunteer_roles``), and the
gateway then acts only as those volunteers, each within its own company (tenant). A visit that
is not one of theirs is a 404 whichever company it belongs to, and nothing is changed. Every
form posts the session's CSRF token (:meth:`PeopleRoutes._check_csrf`); what a visit allows and
shows is the volunteers service's answer.
"""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.gateway import volunteer_pages
from services.gateway.apidoc import Param, Route, path_id
from services.gateway.http import Answered, endpoint
from services.gateway.models import Tenant
from services.gateway.people import PeopleRoutes, see_other
from services.gateway.sessions import SignedIn

#: The page an action leads to says what was done (``?done=…``; see volunteer_pages.DONE).
DONE = {"accept": "accepted", "complete": "completed"}
MAX_ID = 64  # as documented for the path: ids are UUIDs
MISSING = "没有找到这次回访：它可能已转给其他志愿者，或不是分给您的。"


class VolunteerPageRoutes(PeopleRoutes):
    def _volunteer(self, request: Request, back_to: str | None = None) -> tuple[SignedIn, list[dict]]:
        """The signed-in person and their registrations ([] when none); else stop with a 303 to
        /signin, which comes back to ``back_to`` (a form's page, not the URL it posts to)."""
        if back_to is None:
            person = self._require_person(request)
        elif (person := self._person(request)) is None:
            raise Answered(see_other("/signin?next=" + quote(back_to, safe="/")))
        roles = self._call("volunteers", "volunteer_roles", person.phone)
        with self.db.read() as session:
            names = dict(
                session.execute(
                    select(Tenant.id, Tenant.name).where(Tenant.id.in_({role["tenant"] for role in roles}))
                ).all()
            )
        return person, [role | {"company": names.get(role["tenant"], "")} for role in roles]

    def _estates(self, tenant: str) -> dict[str, str]:
        return {estate["id"]: estate["name"] for estate in self._call("requests", "list_estates", tenant)}

    def _own_visit(self, roles: list[dict], visit_id: str) -> tuple[dict, dict]:
        """(registration, visit) of the person's own visit, else NotFound (anyone else's)."""
        for role in roles:
            try:
                return role, self._call("volunteers", "my_visit", role["tenant"], role["volunteer_id"], visit_id)
            except NotFound:
                continue
        raise NotFound(f"visit {visit_id} not found")

    @staticmethod
    def _visit_missing(person: SignedIn | None) -> Response:
        return volunteer_pages.message_page(person, "回访不存在", MISSING, 404)

    def _no_such_id(self, request: Request, visit_id: str) -> Response | None:
        """An id no visit can have (longer than any id) is a 404 at once, signed in or not."""
        return self._visit_missing(self._person(request)) if len(visit_id) > MAX_ID else None

    # --- pages ----------------------------------------------------------------------------

    @endpoint("GET", "/v")
    def volunteer_visits_page(self, request: Request) -> Response:
        person, roles = self._volunteer(request)
        if not roles:
            return volunteer_pages.not_a_volunteer_page(person)
        companies = [
            role
            | {
                "estates": self._estates(role["tenant"]),
                "visits": self._call("volunteers", "my_visits", role["tenant"], role["volunteer_id"]),
            }
            for role in roles
        ]
        return volunteer_pages.visits_page(person, companies, request.args.get("done"))

    @endpoint("GET", "/v/visits/<string:visit_id>")
    def volunteer_visit_page(self, request: Request, visit_id: str) -> Response:
        if (refused := self._no_such_id(request, visit_id)) is not None:
            return refused
        person, roles = self._volunteer(request)
        try:
            role, visit = self._own_visit(roles, visit_id)
        except NotFound:
            return self._visit_missing(person)
        company = role | {"estates": self._estates(role["tenant"])}
        return volunteer_pages.visit_page(person, company, visit, done=request.args.get("done"))

    @endpoint("POST", "/v/visits/<string:visit_id>/accept")
    def volunteer_accept_visit(self, request: Request, visit_id: str) -> Response:
        return self._act(request, visit_id, "accept")

    @endpoint("POST", "/v/visits/<string:visit_id>/complete")
    def volunteer_complete_visit(self, request: Request, visit_id: str) -> Response:
        return self._act(request, visit_id, "complete")

    @endpoint("POST", "/v/visits/<string:visit_id>/decline")
    def volunteer_decline_visit(self, request: Request, visit_id: str) -> Response:
        return self._act(request, visit_id, "decline")

    def _act(self, request: Request, visit_id: str, action: str) -> Response:
        """One action on the person's own visit: 404 if not theirs, 409 (the page says so) if stale."""
        if (refused := self._no_such_id(request, visit_id)) is not None:
            return refused
        person, roles = self._volunteer(request, back_to=f"/v/visits/{visit_id}")
        self._check_csrf(request, person)
        try:
            role, _ = self._own_visit(roles, visit_id)
        except NotFound:
            return self._visit_missing(person)
        tenant, volunteer_id = role["tenant"], role["volunteer_id"]
        form = {key: value.strip() for key, value in request.form.items() if key != "csrf" and value.strip()}
        try:
            if action == "accept":
                self._call("volunteers", "accept_visit", tenant, visit_id, volunteer_id)
            elif action == "complete":
                payload = {key: form[key] for key in ("outcome", "notes") if key in form}
                self._call("volunteers", "complete_my_visit", tenant, volunteer_id, visit_id, payload)
            else:
                if "reason" not in form:  # the page asks why, so staff can see why the visit moved
                    raise ValidationFailed("a reason is needed", {"reason": ["请说明不能前往的原因"]})
                payload = {"volunteer_id": volunteer_id, "reason": form["reason"]}
                self._call("volunteers", "decline_visit", tenant, visit_id, payload)
        except Conflict:
            return self._visit_again(person, role, visit_id, 409, stale=True)
        except ValidationFailed as exc:
            return self._visit_again(person, role, visit_id, 422, errors=exc.errors, form=form)
        except NotFound:
            return self._visit_missing(person)
        if action == "decline":
            return see_other("/v?done=declined")  # no longer theirs: its page would be a 404
        return see_other(f"/v/visits/{visit_id}?done={DONE[action]}")

    def _visit_again(self, person: SignedIn, role: dict, visit_id: str, status: int, **shown: object) -> Response:
        """The visit's page once more, as it is now, saying why the action did not happen."""
        try:
            visit = self._call("volunteers", "my_visit", role["tenant"], role["volunteer_id"], visit_id)
        except NotFound:  # it moved on to someone else in the meantime
            return volunteer_pages.message_page(person, "回访已转给他人", volunteer_pages.STALE, status)
        company = role | {"estates": self._estates(role["tenant"])}
        return volunteer_pages.visit_page(person, company, visit, status, **shown)  # type: ignore[arg-type]

    @endpoint("GET", "/v/hours")
    def volunteer_hours_page(self, request: Request) -> Response:
        person, roles = self._volunteer(request)
        if not roles:
            return volunteer_pages.not_a_volunteer_page(person)
        companies = []
        for role in roles:
            tenant, volunteer_id = role["tenant"], role["volunteer_id"]
            totals = self._call("volunteers", "hours_totals", tenant, {"volunteer_id": volunteer_id})
            companies.append(
                role
                | {
                    "ledger": self._call("volunteers", "hours_ledger", tenant, {"volunteer_id": volunteer_id}),
                    "total": totals[0]["hours"] if totals else 0,
                    "ranking": self._call("volunteers", "hours_ranking", tenant, {}),
                }
            )
        return volunteer_pages.hours_page(person, companies)

    @endpoint("GET", "/v/shifts")
    def volunteer_shifts_page(self, request: Request) -> Response:
        person, roles = self._volunteer(request)
        if not roles:
            return volunteer_pages.not_a_volunteer_page(person)
        companies = [
            role
            | {
                "shifts": [
                    item
                    for item in self._call("volunteers", "volunteer_schedule", role["tenant"], role["volunteer_id"])
                    if item["kind"] == "shift"
                ]
            }
            for role in roles
        ]
        return volunteer_pages.shifts_page(person, companies)


SESSION = Param("lx_session", "cookie", "set by signing in (/signin)", schema={"type": "string"})
VISIT = path_id("visit_id")


def _page(method: str, path: str, summary: str, *args: object, **kwargs: object) -> Route:
    """A documented volunteer page: HTML, the session cookie instead of an API key."""
    params = (VISIT, SESSION) if "{visit_id}" in path else (SESSION,)
    defaults: dict = {"params": params, "auth": False, "content": "text/html", "tag": "people"}
    return Route(method, path, summary, *args, **(defaults | kwargs))  # type: ignore[arg-type]


ROUTES: tuple[Route, ...] = (
    _page("GET", "/v", "The volunteer's visits, in every company they volunteer for (303 to /signin if not signed in)",
          errors=(303,)),
    _page("GET", "/v/visits/{visit_id}", "One of the volunteer's visits, with what they may do now",
          errors=(303, 404)),
    _page("POST", "/v/visits/{visit_id}/accept", "Accept one's own open visit (form: csrf)", None, 303,
          errors=(403, 404, 409)),
    _page("POST", "/v/visits/{visit_id}/complete",
          "Record one's own visit's outcome (form: csrf, outcome satisfied|unsatisfied|unreachable, notes); "
          "unsatisfied reopens the case", None, 303, errors=(403, 404, 409, 422)),
    _page("POST", "/v/visits/{visit_id}/decline",
          "Decline one's own visit (form: csrf, reason); it is reassigned by the fair rule", None, 303,
          errors=(403, 404, 409, 422)),
    _page("GET", "/v/hours", "The volunteer's service hours and their company's published ranking", errors=(303,)),
    _page("GET", "/v/shifts", "The volunteer's coming activity shifts", errors=(303,)),
)  # fmt: skip
