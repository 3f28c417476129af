"""How a route is documented in ``/openapi.json``: one :class:`Route` beside each handler."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import Schema, fields


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # path or query
    description: str = ""
    required: bool = False
    schema: dict = field(default_factory=lambda: {"type": "string", "maxLength": 64})


@dataclass(frozen=True)
class Route:
    """One documented operation; the path uses the handler's own parameter names."""

    method: str
    path: str
    summary: str
    response: type[Schema] | None = None
    status: int = 200
    body: type[Schema] | None = None
    body_required: bool = True  # False: the JSON body may be left out (every field has a default)
    many: bool = False
    params: tuple[Param, ...] = ()
    query: type[Schema] | None = None  # the schema that validates the query string, expanded into parameters
    errors: tuple[int, ...] = ()
    auth: bool = True
    content: str = "application/json"
    media: tuple[str, ...] = ()  # a response of raw bytes (an image) in one of these media types
    upload: str | None = None  # a multipart/form-data body whose field of this name carries image files
    tag: str = "cases"
    open311: bool = False  # Open311 GeoReport v2: bare arrays, JSON or XML, errors as [{code, description}]


def page_id(name: str) -> Param:
    """An id in a page's path: any text (an unknown one is a 404 page, and before sign-in a 303),
    so no length or pattern is documented that the page would have to refuse first."""
    return Param(name, "path", required=True, schema={"type": "string"})


def path_id(name: str) -> Param:
    """A required id in the path, e.g. ``path_id("case_id")`` for ``/cases/{case_id}``."""
    return Param(name, "path", required=True)


PAGE = (
    Param("limit", "query", "1–100, default 20", schema={"type": "integer", "minimum": 1, "maximum": 100}),
    Param("starting_after", "query", "the last id of the previous page"),
)


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "field → messages, for 422"})
