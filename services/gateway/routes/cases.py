"""Estates and cases: the property company's desk."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.gateway.apidoc import Route, path_id
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.requests.schemas import (
    CaseCreateSchema,
    CaseListQuerySchema,
    CaseSchema,
    EstateCreateSchema,
    EstateSchema,
    TransitionSchema,
)
from services.surveys.schemas import SurveySchema
from services.volunteers.schemas import VisitSchema


class CaseRoutes(Plumbing):
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


CASE = path_id("case_id")

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/api/v1/estates",
        "Add an estate (小区)",
        EstateSchema,
        201,
        EstateCreateSchema,
        errors=(422,),
        tag="estates",
    ),
    Route("GET", "/api/v1/estates", "List the tenant's estates", EstateSchema, many=True, tag="estates"),
    Route("POST", "/api/v1/cases", "Submit a case (听业主说事)", CaseSchema, 201, CaseCreateSchema, errors=(422,)),
    Route(
        "GET",
        "/api/v1/cases",
        "List cases, newest first",
        CaseSchema,
        many=True,
        errors=(422,),
        query=CaseListQuerySchema,
    ),
    Route("GET", "/api/v1/cases/{case_id}", "A case with its history", CaseSchema, params=(CASE,), errors=(404,)),
    Route(
        "POST",
        "/api/v1/cases/{case_id}/transitions",
        "Move a case: accept, assign, start, resolve, close, reopen",
        CaseSchema,
        200,
        TransitionSchema,
        params=(CASE,),
        errors=(404, 409, 422),
    ),
    Route(
        "GET",
        "/api/v1/cases/{case_id}/visits",
        "Follow-up visits of a case",
        VisitSchema,
        many=True,
        params=(CASE,),
        errors=(404,),
    ),
    Route(
        "GET",
        "/api/v1/cases/{case_id}/surveys",
        "Satisfaction surveys of a case (never their tokens)",
        SurveySchema,
        many=True,
        params=(CASE,),
        errors=(404,),
    ),
)
