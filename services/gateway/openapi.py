"""``/openapi.json``: generated from the very marshmallow schemas the services validate with."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from services.notifications.schemas import ContactCreateSchema, ContactSchema, DeliverySchema
from services.requests.schemas import (
    CaseCreateSchema,
    CaseSchema,
    EstateCreateSchema,
    EstateSchema,
    TransitionSchema,
)
from services.surveys.schemas import AnswerSchema, SurveyPageSchema, SurveySchema
from services.volunteers.schemas import (
    VisitCompleteSchema,
    VisitSchema,
    VolunteerCreateSchema,
    VolunteerSchema,
)


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "field → messages, for 422"})


class HealthSchema(Schema):
    status = fields.String()


class ReadinessSchema(Schema):
    status = fields.String()
    checks = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": 'check → "ok" or why it failed'}
    )


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path or query
    description: str = ""
    required: bool = False
    schema: dict = field(default_factory=lambda: {"type": "string", "maxLength": 64})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    response: type[Schema] | None = None
    status: int = 200
    body: type[Schema] | None = None
    many: bool = False
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()
    auth: bool = True
    content: str = "application/json"
    tag: str = "cases"


ID = Param("id", "path", required=True)
PAGE = (
    Param("limit", "query", "1–100, default 20", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    Param("starting_after", "query", "the last id of the previous page"),
)

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
        params=(Param("status", "query"), Param("estate_id", "query"), *PAGE),
    ),
    Route("GET", "/api/v1/cases/{id}", "A case with its history", CaseSchema, params=(ID,), errors=(404,)),
    Route(
        "POST",
        "/api/v1/cases/{id}/transitions",
        "Move a case: accept, assign, start, resolve, close, reopen",
        CaseSchema,
        200,
        TransitionSchema,
        params=(ID,),
        errors=(404, 409, 422),
    ),
    Route(
        "GET",
        "/api/v1/cases/{id}/visits",
        "Follow-up visits of a case",
        VisitSchema,
        many=True,
        params=(ID,),
        errors=(404,),
    ),
    Route(
        "GET",
        "/api/v1/cases/{id}/surveys",
        "Satisfaction surveys of a case (never their tokens)",
        SurveySchema,
        many=True,
        params=(ID,),
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/v1/volunteers",
        "Register a volunteer",
        VolunteerSchema,
        201,
        VolunteerCreateSchema,
        errors=(409, 422),
        tag="volunteers",
    ),
    Route("GET", "/api/v1/volunteers", "List volunteers", VolunteerSchema, many=True, tag="volunteers"),
    Route(
        "POST",
        "/api/v1/visits/{id}/complete",
        "Record a visit's outcome",
        VisitSchema,
        200,
        VisitCompleteSchema,
        params=(ID,),
        errors=(404, 409, 422),
        tag="volunteers",
    ),
    Route(
        "POST",
        "/api/v1/contacts",
        "Save a contact (phone, email)",
        ContactSchema,
        200,
        ContactCreateSchema,
        errors=(422,),
        tag="notifications",
    ),
    Route(
        "GET",
        "/api/v1/notifications",
        "Delivery records for one recipient",
        DeliverySchema,
        many=True,
        params=(Param("phone", "query", "mainland mobile", True), *PAGE),
        errors=(422,),
        tag="notifications",
    ),
    Route(
        "GET",
        "/s/{token}",
        "The resident's survey page (records nothing)",
        None,
        params=(Param("token", "path", required=True),),
        errors=(404,),
        auth=False,
        content="text/html",
        tag="surveys",
    ),
    Route(
        "POST",
        "/s/{token}",
        "Answer a survey (form or JSON), once",
        SurveyPageSchema,
        200,
        AnswerSchema,
        params=(Param("token", "path", required=True),),
        errors=(404, 409, 410, 422),
        auth=False,
        tag="surveys",
    ),
    Route("GET", "/healthz", "Liveness of the gateway", HealthSchema, auth=False, tag="operations"),
    Route(
        "GET",
        "/livez",
        "Liveness: the broker connection is up (503 when not)",
        HealthSchema,
        auth=False,
        tag="operations",
    ),
    Route(
        "GET",
        "/readyz",
        "Readiness: database and broker answer (503 names the failed check)",
        ReadinessSchema,
        auth=False,
        tag="operations",
    ),
    Route(
        "GET",
        "/metrics",
        "Prometheus metrics (text format 0.0.4)",
        None,
        auth=False,
        content="text/plain",
        tag="operations",
    ),
    Route("GET", "/openapi.json", "This document", None, auth=False, tag="operations"),
    Route("GET", "/docs", "This document, readable", None, auth=False, content="text/html", tag="operations"),
)


def schema_name(schema: type[Schema]) -> str:
    return schema.__name__.removesuffix("Schema")


@cache
def spec() -> dict:
    api = APISpec(
        title="Lianxin (连心) API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=lambda s: schema_name(s if isinstance(s, type) else type(s)))],
        info={"description": "Community property service: cases, follow-up visits, surveys, notifications."},
        servers=[{"url": "/"}],
    )
    api.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer", "description": "tenant API key"})
    api.components.schema("Problem", schema=ProblemSchema)
    operations: dict[str, dict] = {}
    for route in ROUTES:
        operations.setdefault(route.path, {})[route.method.lower()] = operation(route)
    for path, ops in operations.items():
        api.path(path=path, operations=ops)
    return api.to_dict()


def operation_id(route: Route) -> str:
    words = route.path.strip("/").replace("{", "").replace("}", "").replace(".", "_").split("/")
    return "_".join([route.method.lower(), *words])


def operation(route: Route) -> dict:
    op: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": operation_id(route),
        "responses": {},
    }
    if route.params:
        op["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in route.params
        ]
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        if route.path.startswith("/s/"):
            op["requestBody"]["content"]["application/x-www-form-urlencoded"] = {"schema": route.body}
    if route.response is not None:
        schema: object = (
            {
                "type": "object",
                "properties": {"data": {"type": "array", "items": route.response}, "has_more": {"type": "boolean"}},
            }
            if route.many
            else route.response
        )
        op["responses"][str(route.status)] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    else:
        op["responses"][str(route.status)] = {
            "description": "OK",
            "content": {
                route.content: {
                    "schema": {"type": "string"} if route.content.startswith("text/") else {"type": "object"}
                }
            },
        }
    errors = set(route.errors) | {500, 503}
    if route.auth:
        errors |= {401}
        op["security"] = [{"apiKey": []}]
    if route.body is not None:
        errors |= {400, 413, 415}
    for code in sorted(errors):
        op["responses"][str(code)] = {
            "description": HTTP_TITLES.get(code, "Error"),
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    return op


HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    500: "Internal error",
    503: "Service unavailable",
}
