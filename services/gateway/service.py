"""The gateway: HTTP for integrators and residents. Auth and tenancy here; no domain logic.

Every route authenticates (except the resident's survey page), then asks the owning
service over RPC with the caller's tenant. Another tenant's id is simply not found.
"""

from __future__ import annotations

import json

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Request, Response

from services.common.database import Database
from services.common.errors import Conflict, Gone, NotFound, ValidationFailed
from services.common.health import Answer, Health
from services.common.tracing import LogContext
from services.gateway import openapi, pages, tenants
from services.gateway.http import (
    ServiceUnavailable,
    Unauthorized,
    endpoint,
    json_response,
    problem_from,
    read_json,
)
from services.gateway.models import Base, DeadLetter, Inbox, Outbox


class GatewayService:
    name = "gateway"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    health = Health()
    config = Config()
    requests = RpcProxy("requests")
    volunteers = RpcProxy("volunteers")
    surveys = RpcProxy("surveys")
    notifications = RpcProxy("notifications")

    # -- plumbing ---------------------------------------------------------------------------

    def _tenant(self, request: Request) -> tuple[str, str]:
        """(tenant id, actor) for the bearer key, or 401."""
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("send Authorization: Bearer <api key>")
        with self.db.read() as session:
            found = tenants.authenticate(session, key.strip())
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        tenant, api_key = found
        return tenant.id, f"{tenant.name}/{api_key.prefix}"

    def _call(self, service: str, method: str, *args: object) -> object:
        """Call a service over RPC; 503 when it does not answer within RPC_TIMEOUT.

        Only the wait for the reply is timed out: interrupting kombu while it (re)connects
        for the publish can leave a pooled connection half-open (seen after a broker
        restart), so the publish is bounded by the connection timeouts instead.
        """
        timeout = float(self.config.get("RPC_TIMEOUT", 10))
        reply = getattr(getattr(self, service), method).call_async(*args)
        with eventlet.Timeout(timeout, ServiceUnavailable(f"{service} did not answer in {timeout:g}s")):
            return reply.result()

    def _case(self, tenant: str, case_id: str) -> dict:
        return self._call("requests", "get_case", tenant, case_id)

    # -- estates and cases -------------------------------------------------------------------

    @endpoint("POST", "/api/v1/estates")
    def create_estate(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "create_estate", tenant, read_json(request)), 201)

    @endpoint("GET", "/api/v1/estates")
    def list_estates(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("requests", "list_estates", tenant), "has_more": False})

    @endpoint("POST", "/api/v1/cases")
    def submit_case(self, request: Request) -> Response:
        tenant, actor = self._tenant(request)
        case = self._call("requests", "submit_case", tenant, read_json(request), actor)
        return json_response(case, 201, {"Location": f"/api/v1/cases/{case['id']}"})

    @endpoint("GET", "/api/v1/cases")
    def list_cases(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "list_cases", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/cases/<string:case_id>")
    def get_case(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._case(tenant, case_id))

    @endpoint("POST", "/api/v1/cases/<string:case_id>/transitions")
    def transition_case(self, request: Request, case_id: str) -> Response:
        tenant, actor = self._tenant(request)
        return json_response(self._call("requests", "transition", tenant, case_id, read_json(request), actor))

    @endpoint("GET", "/api/v1/cases/<string:case_id>/visits")
    def case_visits(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        self._case(tenant, case_id)
        return json_response({"data": self._call("volunteers", "visits_for_case", tenant, case_id), "has_more": False})

    @endpoint("GET", "/api/v1/cases/<string:case_id>/surveys")
    def case_surveys(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        self._case(tenant, case_id)
        return json_response({"data": self._call("surveys", "surveys_for_case", tenant, case_id), "has_more": False})

    # -- volunteers and visits ---------------------------------------------------------------

    @endpoint("POST", "/api/v1/volunteers")
    def register_volunteer(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_estates(tenant, payload)
        return json_response(self._call("volunteers", "register_volunteer", tenant, payload), 201)

    def _check_estates(self, tenant: str, payload: object) -> None:
        """A volunteer may only serve the tenant's own estates."""
        if not isinstance(payload, dict) or not isinstance(payload.get("estate_ids"), list):
            return  # the volunteers service reports the shape error
        own = {estate["id"] for estate in self._call("requests", "list_estates", tenant)}
        unknown = [e for e in payload["estate_ids"] if isinstance(e, str) and e not in own]
        if unknown:
            raise ValidationFailed(
                "unknown estate", {"estate_ids": [f"没有这个小区 (no such estate): {e}" for e in unknown]}
            )

    @endpoint("GET", "/api/v1/volunteers")
    def list_volunteers(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("volunteers", "list_volunteers", tenant), "has_more": False})

    @endpoint("POST", "/api/v1/visits/<string:visit_id>/complete")
    def complete_visit(self, request: Request, visit_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "complete_visit", tenant, visit_id, read_json(request)))

    # -- notifications -----------------------------------------------------------------------

    @endpoint("POST", "/api/v1/contacts")
    def save_contact(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "save_contact", tenant, read_json(request)))

    @endpoint("GET", "/api/v1/notifications")
    def list_notifications(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "deliveries_for", tenant, request.args.to_dict()))

    # -- the resident's survey page ----------------------------------------------------------

    @endpoint("GET", "/s/<string:token>")
    def survey_form(self, request: Request, token: str) -> Response:
        try:
            survey = self._call("surveys", "survey_page", token)
        except NotFound:
            return html(pages.survey_page("missing"), 404)
        state = "form" if survey["status"] == "issued" else survey["status"]
        return html(pages.survey_page(state, survey))

    @endpoint("POST", "/s/<string:token>")
    def survey_answer(self, request: Request, token: str) -> Response:
        as_json = (request.mimetype or "").endswith("json")
        payload = read_json(request) if as_json else request.form.to_dict()
        try:
            result = self._call("surveys", "answer", token, payload)
        except (NotFound, Conflict, Gone, ValidationFailed) as exc:
            if as_json:
                return problem_from(exc)
            return self._survey_error_page(token, exc)
        if as_json:
            return json_response(result)
        return html(pages.survey_page("thanks", result))

    def _survey_error_page(self, token: str, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            return html(pages.survey_page("missing"), 404)
        if isinstance(exc, Conflict):
            return html(pages.survey_page("answered"), 409)
        if isinstance(exc, Gone):
            survey = self._call("surveys", "survey_page", token)
            return html(pages.survey_page(survey["status"], survey), 410)
        survey = self._call("surveys", "survey_page", token)
        return html(pages.survey_page("form", survey, exc.errors), 422)

    # -- operations --------------------------------------------------------------------------

    @endpoint("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @endpoint("GET", "/livez")
    def livez(self, request: Request) -> Response:
        return answer(self.health.livez())

    @endpoint("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        return answer(self.health.readyz())

    @endpoint("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return answer(self.health.metrics())

    @endpoint("GET", "/openapi.json")
    def openapi_json(self, request: Request) -> Response:
        return json_response(openapi.spec())

    @endpoint("GET", "/docs")
    def docs(self, request: Request) -> Response:
        return html(pages.docs_page(json.loads(json.dumps(openapi.spec()))))


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def answer(probe: Answer) -> Response:
    return Response(probe.body, status=probe.status, content_type=probe.content_type)
