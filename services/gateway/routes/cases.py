"""Estates and cases: the property company's desk, the party branch's view, the public board.

The desk: categories and their SLA, cases (search, counts, edits, transitions, audit,
comments), estate incidents and owners' proposals. The community routes let the party branch
supervisor read every case of the community's companies and add instructions, nothing else.
The board (向业主晒事) is JSON for the company and a public page for the estate.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import NotFound, ValidationFailed, validated
from services.gateway.apidoc import Param, Route, path_id
from services.gateway.board_page import board_page
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import html
from services.gateway.residents import ResidentActions, ResidentVoteSchema, app_person_required
from services.gateway.routes.surveys import statistics_params
from services.requests.schemas import (
    BoardQuerySchema,
    BoardSchema,
    CaseCountQuerySchema,
    CaseCountsSchema,
    CaseCreateSchema,
    CaseEditSchema,
    CaseListQuerySchema,
    CaseSchema,
    CaseStatisticsRowSchema,
    CategoryConfigSchema,
    CategorySchema,
    ChangeSchema,
    CommentCreateSchema,
    CommentQuerySchema,
    CommentSchema,
    EstateCreateSchema,
    EstateSchema,
    IncidentCreateSchema,
    IncidentListQuerySchema,
    IncidentMergeSchema,
    IncidentResolveSchema,
    IncidentSchema,
    IncidentUpdateCreateSchema,
    InstructionCreateSchema,
    ProposalCreateSchema,
    ProposalListQuerySchema,
    ProposalSchema,
    TransitionSchema,
    VoteSchema,
)
from services.surveys.schemas import SurveySchema
from services.volunteers.schemas import VisitSchema


class CaseRoutes(ResidentActions):
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
        payload = self._for_own_resident(read_json(request))
        case = self._call("requests", "submit_case", tenant, payload, actor)
        return json_response(case, 201, {"Location": f"/api/v1/cases/{case['id']}"})

    @endpoint("GET", "/api/v1/cases")
    def list_cases(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        query = request.args.to_dict()
        if self.caller is not None and self.caller.resident_phone:
            query["reporter_phone"] = self.caller.resident_phone  # a resident app lists its resident's cases only
        return json_response(self._call("requests", "list_cases", tenant, query))

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

    @endpoint("PATCH", "/api/v1/cases/<string:case_id>")
    def edit_case(self, request: Request, case_id: str) -> Response:
        tenant, actor = self._tenant(request)
        return json_response(self._call("requests", "edit_case", tenant, case_id, read_json(request), actor))

    @endpoint("GET", "/api/v1/case-counts")
    def count_cases(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "count_cases", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/case-statistics")
    def case_statistics(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        rows = self._call("requests", "case_statistics", tenant, statistics_params(request))
        return json_response({"data": rows, "has_more": False})

    @endpoint("GET", "/api/v1/cases/<string:case_id>/audit")
    def case_audit(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("requests", "case_audit", tenant, case_id), "has_more": False})

    @endpoint("POST", "/api/v1/cases/<string:case_id>/comments")
    def add_comment(self, request: Request, case_id: str) -> Response:
        tenant, actor = self._tenant(request)
        body = read_json(request)
        caller = getattr(self, "caller", None)
        if caller is not None and caller.resident_phone:
            self._case(tenant, case_id)  # a resident comments on their own cases only, in public, as a resident
            body = {**body, "author_role": "resident", "visibility": "public"} if isinstance(body, dict) else body
        return json_response(self._call("requests", "add_comment", tenant, case_id, body, actor), 201)

    @endpoint("GET", "/api/v1/cases/<string:case_id>/comments")
    def list_comments(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        found = self._call("requests", "list_comments", tenant, case_id, request.args.to_dict())
        return json_response({"data": found, "has_more": False})

    # --- categories -----------------------------------------------------------------------

    @endpoint("GET", "/api/v1/case-categories")
    def list_categories(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("requests", "list_categories", tenant), "has_more": False})

    @endpoint("POST", "/api/v1/case-categories")
    def configure_category(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "configure_category", tenant, read_json(request)))

    # --- the community party branch supervisor --------------------------------------------

    @endpoint("GET", "/api/v1/community/cases")
    def community_cases(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        tenants = self._community_tenants(tenant)
        return json_response(self._call("requests", "list_community_cases", tenants, request.args.to_dict()))

    @endpoint("GET", "/api/v1/community/cases/<string:case_id>")
    def community_case(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "get_community_case", self._community_tenants(tenant), case_id))

    @endpoint("POST", "/api/v1/community/cases/<string:case_id>/instructions")
    def add_instruction(self, request: Request, case_id: str) -> Response:
        tenant, actor = self._tenant(request)
        tenants = self._community_tenants(tenant)
        instruction = self._call("requests", "add_instruction", tenants, case_id, read_json(request), actor)
        return json_response(instruction, 201)

    # --- incidents ------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/incidents")
    def declare_incident(self, request: Request) -> Response:
        tenant, actor = self._tenant(request)
        incident = self._call("requests", "declare_incident", tenant, read_json(request), actor)
        return json_response(incident, 201, {"Location": f"/api/v1/incidents/{incident['id']}"})

    @endpoint("GET", "/api/v1/incidents")
    def list_incidents(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "list_incidents", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/incidents/<string:incident_id>")
    def get_incident(self, request: Request, incident_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "get_incident", tenant, incident_id))

    @endpoint("POST", "/api/v1/incidents/<string:incident_id>/updates")
    def update_incident(self, request: Request, incident_id: str) -> Response:
        tenant, actor = self._tenant(request)
        return json_response(self._call("requests", "update_incident", tenant, incident_id, read_json(request), actor))

    @endpoint("POST", "/api/v1/incidents/<string:incident_id>/cases")
    def merge_into_incident(self, request: Request, incident_id: str) -> Response:
        tenant, actor = self._tenant(request)
        body = read_json(request)
        return json_response(self._call("requests", "merge_into_incident", tenant, incident_id, body, actor))

    @endpoint("POST", "/api/v1/incidents/<string:incident_id>/resolve")
    def resolve_incident(self, request: Request, incident_id: str) -> Response:
        tenant, actor = self._tenant(request)
        body = read_json(request)
        return json_response(self._call("requests", "resolve_incident", tenant, incident_id, body, actor))

    # --- proposals ------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/proposals")
    def create_proposal(self, request: Request) -> Response:
        tenant, actor = self._tenant(request)
        proposal = self._call("requests", "create_proposal", tenant, read_json(request), actor)
        return json_response(proposal, 201, {"Location": f"/api/v1/proposals/{proposal['id']}"})

    @endpoint("GET", "/api/v1/proposals")
    def list_proposals(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "list_proposals", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/proposals/<string:proposal_id>")
    def get_proposal(self, request: Request, proposal_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "get_proposal", tenant, proposal_id))

    @endpoint("POST", "/api/v1/proposals/<string:proposal_id>/votes")
    def vote(self, request: Request, proposal_id: str) -> Response:
        """A resident app votes for its signed-in resident's household, as the community's register has it."""
        tenant, _ = self._tenant(request)
        person = app_person_required(self._app_person(request))
        ballot = validated(ResidentVoteSchema(), read_json(request))
        return json_response(
            self._vote_as_resident(person, tenant, proposal_id, ballot["choice"], ballot["household"]), 201
        )

    # --- the board (向业主晒事) -----------------------------------------------------------

    @endpoint("GET", "/api/v1/estates/<string:estate_id>/board")
    def estate_board(self, request: Request, estate_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("requests", "estate_board", tenant, estate_id, request.args.to_dict()))

    @endpoint("GET", "/p/estates/<string:estate_id>/board")
    def public_board(self, request: Request, estate_id: str) -> Response:
        try:
            found = self._call("requests", "estate_board", None, estate_id, request.args.to_dict())
        except ValidationFailed:
            return html(board_page(None, invalid=True), 422)
        except NotFound:
            return html(board_page(None, missing=True), 404)
        return html(board_page(found))


CASE = path_id("case_id")
INCIDENT = path_id("incident_id")
PROPOSAL = path_id("proposal_id")
ESTATE = path_id("estate_id")

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
    Route(
        "PATCH",
        "/api/v1/cases/{case_id}",
        "Correct a case's title, description, category or priority (audited; the SLA follows)",
        CaseSchema,
        200,
        CaseEditSchema,
        params=(CASE,),
        errors=(404, 409, 422),
    ),
    Route(
        "GET",
        "/api/v1/case-counts",
        "Cases per status under the list's filters (dashboards)",
        CaseCountsSchema,
        errors=(422,),
        query=CaseCountQuerySchema,
    ),
    Route(
        "GET",
        "/api/v1/case-statistics",
        "The tenant's own cases per group: cases, resolved, on time (by the resolution due time), reopened "
        "(resolved, then reopened at least once), and the on-time and reopen rates of the resolved ones",
        CaseStatisticsRowSchema,
        many=True,
        params=(
            Param("group_by", "query", "comma-separated: estate, category, assignee, month"),
            Param("from", "query", "first month (YYYY-MM, month of creation, Asia/Shanghai)"),
            Param("to", "query", "last month (YYYY-MM)"),
            Param("estate_id", "query", "only this estate (another tenant's: 404)"),
        ),
        errors=(404, 422),
    ),
    Route(
        "GET",
        "/api/v1/cases/{case_id}/audit",
        "Every change of the case: field, before, after, actor, time",
        ChangeSchema,
        many=True,
        params=(CASE,),
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/v1/cases/{case_id}/comments",
        "Comment on a case (让业主议事), public or internal",
        CommentSchema,
        201,
        CommentCreateSchema,
        params=(CASE,),
        errors=(404, 422),
    ),
    Route(
        "GET",
        "/api/v1/cases/{case_id}/comments",
        "Comments and supervisor instructions on a case",
        CommentSchema,
        many=True,
        params=(CASE,),
        query=CommentQuerySchema,
        errors=(404, 422),
    ),
    Route("GET", "/api/v1/case-categories", "The tenant's case categories with their SLA", CategorySchema, many=True),
    Route(
        "POST",
        "/api/v1/case-categories",
        "Add or change a category by code: name, SLA per priority, auto-assign team",
        CategorySchema,
        200,
        CategoryConfigSchema,
        errors=(422,),
    ),
    Route(
        "GET",
        "/api/v1/community/cases",
        "Party branch: every case of the community's companies (read-only)",
        CaseSchema,
        many=True,
        errors=(403, 422),
        query=CaseListQuerySchema,
        tag="community",
    ),
    Route(
        "GET",
        "/api/v1/community/cases/{case_id}",
        "Party branch: a case of the community with its comments and instructions",
        CaseSchema,
        params=(CASE,),
        errors=(403, 404),
        tag="community",
    ),
    Route(
        "POST",
        "/api/v1/community/cases/{case_id}/instructions",
        "Party branch: add an instruction (批示) to a case",
        CommentSchema,
        201,
        InstructionCreateSchema,
        params=(CASE,),
        errors=(403, 404, 422),
        tag="community",
    ),
    Route(
        "POST",
        "/api/v1/incidents",
        "Declare an estate incident (every household is told)",
        IncidentSchema,
        201,
        IncidentCreateSchema,
        errors=(422,),
        tag="incidents",
    ),
    Route(
        "GET",
        "/api/v1/incidents",
        "List incidents, newest first",
        IncidentSchema,
        many=True,
        errors=(422,),
        query=IncidentListQuerySchema,
        tag="incidents",
    ),
    Route(
        "GET",
        "/api/v1/incidents/{incident_id}",
        "An incident with its updates and merged cases",
        IncidentSchema,
        params=(INCIDENT,),
        errors=(404,),
        tag="incidents",
    ),
    Route(
        "POST",
        "/api/v1/incidents/{incident_id}/updates",
        "Post a progress update (and a new expected end)",
        IncidentSchema,
        200,
        IncidentUpdateCreateSchema,
        params=(INCIDENT,),
        errors=(404, 409, 422),
        tag="incidents",
    ),
    Route(
        "POST",
        "/api/v1/incidents/{incident_id}/cases",
        "Merge duplicate cases of the estate into the incident",
        IncidentSchema,
        200,
        IncidentMergeSchema,
        params=(INCIDENT,),
        errors=(404, 409, 422),
        tag="incidents",
    ),
    Route(
        "POST",
        "/api/v1/incidents/{incident_id}/resolve",
        "Resolve the incident: every merged case is resolved and closed with it",
        IncidentSchema,
        200,
        IncidentResolveSchema,
        params=(INCIDENT,),
        errors=(404, 409, 422),
        tag="incidents",
    ),
    Route(
        "POST",
        "/api/v1/proposals",
        "Open an owners' proposal with a voting window",
        ProposalSchema,
        201,
        ProposalCreateSchema,
        errors=(422,),
        tag="proposals",
    ),
    Route(
        "GET",
        "/api/v1/proposals",
        "List proposals, newest first",
        ProposalSchema,
        many=True,
        errors=(422,),
        query=ProposalListQuerySchema,
        tag="proposals",
    ),
    Route(
        "GET",
        "/api/v1/proposals/{proposal_id}",
        "A proposal with its tally (final once closed)",
        ProposalSchema,
        params=(PROPOSAL,),
        errors=(404,),
        tag="proposals",
    ),
    Route(
        "POST",
        "/api/v1/proposals/{proposal_id}/votes",
        "A resident app votes for its signed-in resident (Lianxin-Resident-Token): one vote per household, "
        "the household the community confirmed (never from the body); no company key votes",
        VoteSchema,
        201,
        ResidentVoteSchema,
        params=(PROPOSAL,),
        errors=(401, 403, 404, 409, 422),
        tag="proposals",
    ),
    Route(
        "GET",
        "/api/v1/estates/{estate_id}/board",
        "The estate's public board as JSON: resolved cases, no names or phones",
        BoardSchema,
        params=(ESTATE,),
        query=BoardQuerySchema,
        errors=(404, 422),
        tag="estates",
    ),
    Route(
        "GET",
        "/p/estates/{estate_id}/board",
        "Public page: the estate's board (向业主晒事), no names or phones",
        None,
        params=(ESTATE,),
        query=BoardQuerySchema,
        errors=(404, 422),
        auth=False,
        content="text/html",
        tag="estates",
    ),
)
