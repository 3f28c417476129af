"""``/openapi.json``: generated from the very marshmallow schemas the services validate with.

Each route module documents its own routes (``ROUTES``); a new module is added to the tuple below.
"""

from __future__ import annotations

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from services.gateway import people
from services.gateway.apidoc import ProblemSchema, Route
from services.gateway.authorization import EVERY_ROLE, POLICY
from services.gateway.routes import (
    cases,
    community,
    households,
    keys,
    notifications,
    open311,
    operations,
    photos,
    resident_pages,
    static,
    surveys,
    volunteer_pages,
    volunteers,
    workbench,
    workbench_branch,
    workbench_incidents,
    workbench_settings,
    workbench_statistics,
    workbench_volunteers,
)

ROUTES: tuple[Route, ...] = (
    *cases.ROUTES,
    *volunteers.ROUTES,
    *notifications.ROUTES,
    *surveys.ROUTES,
    *keys.ROUTES,
    *open311.ROUTES,
    *community.ROUTES,
    *households.ROUTES,
    *volunteer_pages.ROUTES,
    *operations.ROUTES,
    *resident_pages.ROUTES,
    *static.ROUTES,
    *people.ROUTES,
    *photos.ROUTES,
    *workbench.ROUTES,
    *workbench_branch.ROUTES,
    *workbench_incidents.ROUTES,
    *workbench_settings.ROUTES,
    *workbench_statistics.ROUTES,
    *workbench_volunteers.ROUTES,
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
    api.components.security_scheme(
        "open311Key", {"type": "apiKey", "in": "query", "name": "api_key", "description": "the same key, Open311's way"}
    )
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


OPEN311_ERRORS = {
    "application/json": {
        "schema": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "description"],
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
            },
        }
    },
    "text/xml": {"schema": {"type": "string"}},
}


def open311_operation(route: Route) -> dict:
    """Open311 GeoReport v2 as its spec has it: bare arrays, JSON or XML, form posts, its own errors."""
    op: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": operation_id(route),
        "parameters": [
            {"name": p.name, "in": p.where, "required": p.required or p.where == "path", "schema": p.schema}
            | ({"description": p.description} if p.description else {})
            for p in route.params
        ],
        "security": [{"apiKey": []}, {"open311Key": []}],
        "responses": {},
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": route.body}},
        }
    if route.method == "POST":
        op["parameters"].append(IDEMPOTENCY_KEY)
    schema: object = {"type": "object"}
    if route.response is not None:
        schema = (
            {"type": "array", "items": route.response}
            if route.method == "GET" or route.status == 201
            else route.response
        )
    op["responses"][str(route.status)] = {
        "description": "OK",
        "content": {"application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}},
    }
    idempotency = {409, 422} if route.method == "POST" else set()
    for code in sorted(set(route.errors) | {400, 401, 429, 500, 503} | idempotency):
        op["responses"][str(code)] = {"description": HTTP_TITLES.get(code, "Error"), "content": OPEN311_ERRORS}
    return op


def operation(route: Route) -> dict:
    if route.open311:
        return open311_operation(route)
    op: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": operation_id(route),
        "responses": {},
    }
    parameters: list[dict] = [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required or p.where == "path",
            "description": p.description,
            "schema": p.schema,
        }
        for p in route.params
    ]
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    if route.method == "POST" and route.auth:  # only a caller with a key has answers kept
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        op["parameters"] = parameters
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": route.body}},
        }
        if route.path.startswith("/s/"):
            op["requestBody"]["content"]["application/x-www-form-urlencoded"] = {"schema": route.body}
    if route.upload is not None:
        op["requestBody"] = upload_body(route.upload)
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
    elif route.media:
        binary = {"type": "string", "format": "binary"}
        op["responses"][str(route.status)] = {
            "description": "OK",
            "content": {media: {"schema": binary} for media in route.media},
        }
    elif route.status == 204:
        op["responses"]["204"] = {"description": "No Content"}
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
        errors |= {401, 429}
        op["security"] = [{"apiKey": []}]
        if POLICY.get((route.method, route.path), frozenset()) != EVERY_ROLE:  # a role the table refuses: 403
            errors |= {403}
    if route.body is not None or route.upload is not None:
        errors |= {400, 413, 415}
    if route.method == "POST":
        errors |= {400, 409, 422}
    # A page (or a form posted from it, or a photo shown on one) answers errors with a page too.
    pages = route.content == "text/html" or route.path.startswith(("/s/", "/me/", "/workbench/"))
    for code in sorted(errors):
        content: dict = {"application/problem+json": {"schema": "Problem"}}
        if pages:
            content["text/html"] = {"schema": {"type": "string"}}
        op["responses"][str(code)] = {"description": HTTP_TITLES.get(code, "Error"), "content": content}
    return op


def upload_body(field: str) -> dict:
    """multipart/form-data with 1–3 image files in ``field`` (each checked by its content, not its name)."""
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [field],
                    "properties": {
                        field: {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {"type": "string", "format": "binary"},
                            "description": "JPEG, PNG or WebP, each at most MAX_PHOTO_BYTES (5 MiB)",
                        }
                    },
                },
                "encoding": {field: {"contentType": "image/jpeg, image/png, image/webp"}},
            }
        },
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID): a retry with the same key and body gets the first answer again, "
        "with `Idempotent-Replayed: true`; the same key with another body is 422; while the first "
        "is still running, 409. Kept 24 hours, per company, API key, resident (an app's) and "
        "method and path; checked only once the key is (401 first). A secret the first answer "
        "showed (`api_key`, a webhook's `secret`, a resident's `token`) is never kept: the replay "
        "has it `null`, lists it in `withheld` and in the `Idempotent-Withheld` header."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

HTTP_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    429: "Too many requests (see Retry-After)",
    422: "Validation failed",
    500: "Internal error",
    503: "Service unavailable",
}
