"""The workbench's incidents and broadcasts: declare an outage, post updates, merge duplicate
cases into it, resolve it and watch the broadcast reach every household; compose a notice to an
estate or a building and watch its progress.

Every page calls the same RPCs as ``/api/v1/incidents`` and ``/api/v1/broadcasts`` with the
membership's company as the tenant, so another company's incident or broadcast is a 404 as over
the API, and records changes as ``staff:<person id>/<name>``. Company staff only (a supervisor
gets the 403 page). Every form carries the session's CSRF token (403, nothing changed without
it); bad input is a 422 with what was typed and a message per field; an incident resolved
meanwhile answers 409 and says so (the requests service refuses under its conditional UPDATE).
"""

from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.gateway import staff
from services.gateway.apidoc import Route, path_id
from services.gateway.http import Answered, endpoint
from services.gateway.people import see_other
from services.gateway.routes.workbench import MAX_ID, WorkbenchRoutes, _page
from services.gateway.sessions import SignedIn
from services.gateway.workbench import field_errors, workbench_page
from services.gateway.workbench_incidents import (
    REFRESH_SECONDS,
    broadcast_payload,
    case_ids,
    in_words,
    incident_payload,
    update_payload,
)

PAGE_SIZE = 25
MERGE_CHOICES = 50  # the newest open cases of the estate offered for ticking; older ones by id
RESOLVED = "该事件已被他人解除，您的操作没有生效。请查看最新情况。"
DONE = {"declared": "事件已发布，正在通知全体住户", "update": "进展已发布", "merged": "已并入事件",
        "resolved": "事件已解除，并入的案件已办结", "sent": "通知已开始发送"}  # fmt: skip


def known_length(value: str) -> str:
    """An id the spec allows (at most 64 characters); a longer one is not found (404) before any
    sign-in check, as the documented path parameter says."""
    if len(value) > MAX_ID:
        raise NotFound(f"{value[:MAX_ID]}… not found")
    return value


class WorkbenchIncidentRoutes(WorkbenchRoutes):
    # --- shared -----------------------------------------------------------------------------

    def _incidents_done(self, request: Request) -> str | None:
        return DONE.get(request.args.get("done", ""))

    def _estate_names(self, tenant: str) -> dict[str, str]:
        return {e["id"]: e["name"] for e in self._call("requests", "list_estates", tenant)}

    def _company_incident(self, person: SignedIn, member: staff.Membership, incident_id: str) -> dict:
        """The company's incident, or stop with the 404 page (another company's is not found either)."""
        try:
            return self._call("requests", "get_incident", member.tenant_id, incident_id)
        except NotFound:
            raise Answered(
                self._workbench_message(person, member, 404, "没有找到这个事件", "事件不存在，或不属于您的公司。")
            ) from None

    def _company_broadcast(self, person: SignedIn, member: staff.Membership, broadcast_id: str) -> dict:
        try:
            return self._call("notifications", "get_broadcast", member.tenant_id, broadcast_id)
        except NotFound:
            raise Answered(
                self._workbench_message(person, member, 404, "没有找到这条通知", "通知不存在，或不属于您的公司。")
            ) from None

    # --- incidents ---------------------------------------------------------------------------

    @endpoint("GET", "/workbench/incidents")
    def workbench_incidents(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        status = request.args.get("status") or None
        query = {"limit": str(PAGE_SIZE)} | ({"status": status} if status in ("declared", "resolved") else {})
        if request.args.get("starting_after"):
            query["starting_after"] = request.args["starting_after"][:MAX_ID]
        found = self._call("requests", "list_incidents", member.tenant_id, query)
        next_page = None
        if found["has_more"] and found["data"]:
            kept = {"status": status} if status else {}
            next_page = "/workbench/incidents?" + urlencode(kept | {"starting_after": found["data"][-1]["id"]})
        return workbench_page(
            "workbench_incidents.html", person, member, incidents=found["data"], state=status,
            estate_names=self._estate_names(member.tenant_id), next_page=next_page,
        )  # fmt: skip

    def _declare_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        return workbench_page(
            "workbench_incident_new.html", person, member, status,
            estates=self._call("requests", "list_estates", member.tenant_id), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/incidents/new")
    def workbench_incident_form(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        return self._declare_page(person, member, typed={}, errors={})

    @endpoint("POST", "/workbench/incidents")
    def workbench_declare_incident(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        payload = incident_payload(request.form)
        try:
            incident = self._call("requests", "declare_incident", member.tenant_id, payload, member.actor)
        except ValidationFailed as exc:
            typed = request.form.to_dict()
            return self._declare_page(person, member, 422, typed=typed, errors=in_words(field_errors(exc.errors)))
        return see_other(f"/workbench/incidents/{incident['id']}?done=declared")

    def _incident_page(
        self, person: SignedIn, member: staff.Membership, incident: dict, status: int = 200, **shown: object
    ) -> Response:
        tenant = member.tenant_id
        open_cases = self._call(
            "requests", "list_cases", tenant,
            {"estate_id": incident["estate_id"], "open": "true", "limit": str(MERGE_CHOICES)},
        )["data"]  # fmt: skip
        merged = [self._call("requests", "get_case", tenant, case_id) for case_id in incident["case_ids"]]
        told = self._call("notifications", "list_broadcasts", tenant, {"subject": incident["id"], "limit": "20"})
        return workbench_page(
            "workbench_incident.html", person, member, status, incident=incident,
            estate_name=self._estate_names(tenant).get(incident["estate_id"], incident["estate_id"]),
            open_cases=open_cases, merged=merged, broadcasts=told["data"],
            errors=shown.pop("errors", {}), typed=shown.pop("typed", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/incidents/<string:incident_id>")
    def workbench_incident(self, request: Request, incident_id: str) -> Response:
        known_length(incident_id)
        person, member = self._at_workbench(request)
        incident = self._company_incident(person, member, incident_id)
        return self._incident_page(person, member, incident, done=self._incidents_done(request))

    def _incident_change(
        self, request: Request, incident_id: str, method: str, payload: dict, form: str, done: str
    ) -> Response:
        """One change to an incident through ``requests.<method>``: 303 back, or the page with why not."""
        known_length(incident_id)
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        incident = self._company_incident(person, member, incident_id)
        typed = {form: request.form.to_dict(flat=False)}
        try:
            self._call("requests", method, member.tenant_id, incident_id, payload, member.actor)
        except ValidationFailed as exc:
            errors = {form: in_words(field_errors(exc.errors))}
            return self._incident_page(person, member, incident, 422, errors=errors, typed=typed)
        except Conflict as exc:
            fresh = self._company_incident(person, member, incident_id)
            error = RESOLVED if fresh["status"] == "resolved" else f"没有生效：{exc.detail}"
            return self._incident_page(person, member, fresh, 409, error=error, typed=typed)
        return see_other(f"/workbench/incidents/{incident_id}?done={done}#{form}")

    @endpoint("POST", "/workbench/incidents/<string:incident_id>/updates")
    def workbench_incident_update(self, request: Request, incident_id: str) -> Response:
        return self._incident_change(
            request, incident_id, "update_incident", update_payload(request.form), "update", "update"
        )

    @endpoint("POST", "/workbench/incidents/<string:incident_id>/cases")
    def workbench_incident_merge(self, request: Request, incident_id: str) -> Response:
        chosen = case_ids(request.form.getlist("case_ids"), request.form.get("more_case_ids", ""))
        return self._incident_change(
            request, incident_id, "merge_into_incident", {"case_ids": chosen}, "merge", "merged"
        )

    @endpoint("POST", "/workbench/incidents/<string:incident_id>/resolve")
    def workbench_incident_resolve(self, request: Request, incident_id: str) -> Response:
        payload = {"resolution": request.form.get("resolution", "")}
        return self._incident_change(request, incident_id, "resolve_incident", payload, "resolve", "resolved")

    # --- broadcasts --------------------------------------------------------------------------

    @endpoint("GET", "/workbench/broadcasts")
    def workbench_broadcasts(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        query = {"limit": str(PAGE_SIZE)}
        if request.args.get("starting_after"):
            query["starting_after"] = request.args["starting_after"][:MAX_ID]
        found = self._call("notifications", "list_broadcasts", member.tenant_id, query)
        next_page = None
        if found["has_more"] and found["data"]:
            next_page = "/workbench/broadcasts?" + urlencode({"starting_after": found["data"][-1]["id"]})
        sending = any(b["status"] == "sending" for b in found["data"])
        return workbench_page(
            "workbench_broadcasts.html", person, member, broadcasts=found["data"], next_page=next_page,
            estate_names=self._estate_names(member.tenant_id), refresh=REFRESH_SECONDS if sending else None,
        )  # fmt: skip

    def _compose_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        return workbench_page(
            "workbench_broadcast_new.html", person, member, status,
            estates=self._call("requests", "list_estates", member.tenant_id), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/broadcasts/new")
    def workbench_broadcast_form(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        return self._compose_page(person, member, typed={"key": new_id(), "severity": "normal"}, errors={})

    @endpoint("POST", "/workbench/broadcasts")
    def workbench_send_broadcast(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        typed = request.form.to_dict()
        try:
            payload = broadcast_payload(request.form)
            sent = self._call("notifications", "create_broadcast", member.tenant_id, payload, member.actor)
        except ValidationFailed as exc:
            return self._compose_page(person, member, 422, typed=typed, errors=in_words(field_errors(exc.errors)))
        except NotFound:  # nobody of that estate (or building) among the company's contacts
            where = "building" if typed.get("building", "").strip() else "estate_id"
            errors = {where: "该小区（楼栋）没有登记的住户联系人，无人可通知"}
            return self._compose_page(person, member, 422, typed=typed, errors=errors)
        return see_other(f"/workbench/broadcasts/{sent['id']}?done=sent")

    @endpoint("GET", "/workbench/broadcasts/<string:broadcast_id>")
    def workbench_broadcast(self, request: Request, broadcast_id: str) -> Response:
        known_length(broadcast_id)
        person, member = self._at_workbench(request)
        broadcast = self._company_broadcast(person, member, broadcast_id)
        estates = broadcast["topic"].get("estate_ids") or []
        names = self._estate_names(member.tenant_id)
        return workbench_page(
            "workbench_broadcast.html", person, member, broadcast=broadcast, done=self._incidents_done(request),
            estates=[names.get(e, e) for e in estates],
            refresh=REFRESH_SECONDS if broadcast["status"] == "sending" else None,
        )  # fmt: skip


INCIDENT = path_id("incident_id")
BROADCAST = path_id("broadcast_id")

ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench/incidents", "Staff: the company's incidents (status=declared|resolved), with the "
          "estate and the number of merged cases", errors=(303, 403)),
    _page("GET", "/workbench/incidents/new", "Staff: the form to declare an incident", errors=(303, 403)),
    _page("POST", "/workbench/incidents", "Staff: declare an incident (form: csrf, estate_id, kind, title, "
          "description, severity, expected_end as Asia/Shanghai)", None, 303, errors=(403, 422)),
    _page("GET", "/workbench/incidents/{incident_id}", "Staff: an incident: facts, updates, merged cases, open cases "
          "of the estate to merge, and the reach of its broadcasts", params=(INCIDENT,), errors=(303, 403, 404)),
    _page("POST", "/workbench/incidents/{incident_id}/updates", "Staff: post an update (form: csrf, body, "
          "expected_end)", None, 303, params=(INCIDENT,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/incidents/{incident_id}/cases", "Staff: merge duplicate cases (form: csrf, case_ids "
          "ticked, more_case_ids typed)", None, 303, params=(INCIDENT,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/incidents/{incident_id}/resolve", "Staff: resolve with a note (form: csrf, "
          "resolution); 409 if resolved meanwhile", None, 303, params=(INCIDENT,), errors=(403, 404, 409, 422)),
    _page("GET", "/workbench/broadcasts", "Staff: the company's broadcasts with their progress", errors=(303, 403)),
    _page("GET", "/workbench/broadcasts/new", "Staff: the form to compose a notice", errors=(303, 403)),
    _page("POST", "/workbench/broadcasts", "Staff: send a notice to an estate or a building (form: csrf, estate_id, "
          "building, title, body, severity, key)", None, 303, errors=(403, 422)),
    _page("GET", "/workbench/broadcasts/{broadcast_id}", "Staff: a broadcast's progress (total, sent, failed), "
          "refreshing while it sends", params=(BROADCAST,), errors=(303, 403, 404)),
)  # fmt: skip
