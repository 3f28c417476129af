"""Open311 GeoReport v2 (``/open311/v2``): our cases for clients written to the civic standard.

The key comes as ``api_key`` (query or form) as Open311 clients send it, or as a bearer
header. Errors are Open311's ``[{code, description}]``, in the format asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from marshmallow import Schema, fields
from werkzeug.wrappers import Request, Response

from services.common.db import utcnow
from services.common.errors import LianxinError, NotFound, ValidationFailed
from services.common.fields import utc_text
from services.gateway import open311
from services.gateway.apidoc import Param, Route
from services.gateway.http import endpoint, problem_from
from services.gateway.plumbing import Plumbing

FORMAT = Param("format", "path", "json or xml", True, {"type": "string", "enum": list(open311.FORMATS)})


def rfc3339(text: str) -> bool:
    """Whether ``text`` is a date-time with an offset (what Open311's dates are)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def open311_problem(request: Request, exc: BaseException) -> Response:
    """An error before the route ran (the key, ``Idempotency-Key``), Open311's way, in the format asked for."""
    fmt = (getattr(request, "path_values", None) or {}).get("format")
    said = problem_from(exc)  # status, text and headers (Retry-After, WWW-Authenticate) as the API says them
    text = json.loads(said.get_data(True))
    body, mimetype = open311.render(
        "errors",
        [{"code": said.status_code, "description": text.get("detail") or text["title"]}],
        fmt if fmt in open311.FORMATS else "json",
    )
    response = Response(body, status=said.status_code, mimetype=mimetype)
    for name in ("Retry-After", "WWW-Authenticate"):
        if name in said.headers:
            response.headers[name] = said.headers[name]
    return response


class Open311Routes(Plumbing):
    def _open311(self, fmt: str, kind: str, work: Callable[[], object], status: int = 200) -> Response:
        """Run ``work`` and render its answer, or its error, the Open311 way."""
        if fmt not in open311.FORMATS:
            return self._open311_error("json", 404, f"unknown format {fmt!r}: use json or xml")
        try:
            payload = work()
        except open311.Open311Error as exc:
            return self._open311_error(fmt, exc.status, exc.description)
        except ValidationFailed as exc:
            fields_said = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in (exc.errors or {}).items())
            return self._open311_error(fmt, 400, fields_said or exc.detail)
        except LianxinError as exc:
            return self._open311_error(fmt, exc.status, exc.detail)
        body, mimetype = open311.render(kind, payload, fmt)
        return Response(body, status=status, mimetype=mimetype)

    def _open311_error(self, fmt: str, status: int, description: str) -> Response:
        body, mimetype = open311.render("errors", [{"code": status, "description": description}], fmt)
        return Response(body, status=status, mimetype=mimetype)

    def _names(self, tenant: str) -> tuple[dict[str, str], dict[str, str]]:
        categories = {c["code"]: c["name"] for c in self._call("requests", "list_categories", tenant)}
        estates = {e["id"]: e["name"] for e in self._call("requests", "list_estates", tenant)}
        return categories, estates

    @endpoint("GET", "/open311/v2/services.<string:format>", problems=open311_problem)
    def open311_services(self, request: Request, format: str) -> Response:
        def work() -> list[dict]:
            tenant, _ = self._tenant(request)
            return [open311.service(c) for c in self._call("requests", "list_categories", tenant) if c["active"]]

        return self._open311(format, "services", work)

    @endpoint("GET", "/open311/v2/services/<string:service_code>.<string:format>", problems=open311_problem)
    def open311_definition(self, request: Request, service_code: str, format: str) -> Response:
        def work() -> dict:
            tenant, _ = self._tenant(request)
            categories, _ = self._names(tenant)
            if service_code not in categories:
                raise open311.Open311Error(404, f"no service {service_code!r}")
            return open311.definition(service_code, self._call("requests", "list_estates", tenant))

        return self._open311(format, "definition", work)

    @endpoint("POST", "/open311/v2/requests.<string:format>", problems=open311_problem)
    def open311_submit(self, request: Request, format: str) -> Response:
        def work() -> list[dict]:
            tenant, actor = self._tenant(request)
            form = request.form.to_dict()
            case = self._call(
                "requests", "submit_case", tenant, open311.case_body(form, open311.attributes_of(form)), actor
            )
            return [{"service_request_id": case["id"], "service_notice": "已受理，物业将尽快处理", "account_id": None}]

        return self._open311(format, "requests", work, 201)

    @endpoint("GET", "/open311/v2/requests.<string:format>", problems=open311_problem)
    def open311_requests(self, request: Request, format: str) -> Response:
        def work() -> list[dict]:
            tenant, _ = self._tenant(request)
            categories, estates = self._names(tenant)
            return [open311.request(c, categories, estates) for c in self._find(tenant, request.args)]

        return self._open311(format, "requests", work)

    @endpoint("GET", "/open311/v2/requests/<string:service_request_id>.<string:format>", problems=open311_problem)
    def open311_request(self, request: Request, service_request_id: str, format: str) -> Response:
        def work() -> list[dict]:
            tenant, _ = self._tenant(request)
            categories, estates = self._names(tenant)
            try:
                case = self._case(tenant, service_request_id)
            except NotFound:
                raise open311.Open311Error(404, f"no service request {service_request_id!r}") from None
            return [open311.request(case, categories, estates)]

        return self._open311(format, "requests", work)

    def _find(self, tenant: str, args: dict) -> list[dict]:
        """The cases an Open311 list asks for: by ids, or by filters (default: the last 90 days)."""
        for name, longest in (("service_request_id", 1000), ("service_code", 64)):
            if len(args.get(name, "")) > longest:
                raise open311.Open311Error(400, f"{name} is longer than {longest} characters")
        if not re.fullmatch(r"[0-9A-Za-z,-]*", args.get("service_request_id", "")):
            raise open311.Open311Error(400, "service_request_id: comma-separated ids")
        status = args.get("status")
        if status not in (None, "", "open", "closed"):
            raise open311.Open311Error(400, "status is open or closed")
        # Every parameter is checked, even those that ids override: a malformed one is a 400.
        for name in ("start_date", "end_date"):
            if name in args and not rfc3339(args[name]):
                raise open311.Open311Error(400, f"{name} must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z")
        if args.get("service_request_id"):
            found = []
            for case_id in args["service_request_id"].split(",")[: open311.MAX_RESULTS]:
                try:
                    found.append(self._case(tenant, case_id.strip()))
                except NotFound:
                    continue
            return found
        query = {"limit": "100", "created_from": args.get("start_date") or utc_text(utcnow() - timedelta(days=90))}
        if args.get("end_date"):
            query["created_to"] = args["end_date"]
        if args.get("service_code"):
            query["category"] = args["service_code"]
        found: list[dict] = []
        while len(found) < open311.MAX_RESULTS:
            page = self._call("requests", "list_cases", tenant, query)
            found += [c for c in page["data"] if not status or open311.status_of(c["status"]) == status]
            if not page["has_more"] or not page["data"]:
                break
            query["starting_after"] = page["data"][-1]["id"]
        return found[: open311.MAX_RESULTS]


class Open311ServiceSchema(Schema):
    service_code = fields.String(required=True)
    service_name = fields.String(required=True)
    description = fields.String(allow_none=True)
    metadata = fields.Boolean(required=True)
    type = fields.String(required=True)
    keywords = fields.String(allow_none=True)
    group = fields.String(allow_none=True)


class Open311RequestSchema(Schema):
    service_request_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "closed"]})
    status_notes = fields.String(allow_none=True)
    service_name = fields.String(allow_none=True)
    service_code = fields.String(required=True)
    description = fields.String(allow_none=True)
    agency_responsible = fields.String(allow_none=True)
    service_notice = fields.String(allow_none=True)
    requested_datetime = fields.String(required=True)
    updated_datetime = fields.String(allow_none=True)
    expected_datetime = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    address_id = fields.String(allow_none=True)
    zipcode = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    media_url = fields.String(allow_none=True)


class Open311CreatedSchema(Schema):
    service_request_id = fields.String(required=True)
    service_notice = fields.String(allow_none=True)
    account_id = fields.String(allow_none=True)


class Open311SubmitSchema(Schema):
    """The form an Open311 client posts (``attribute[estate]``, ``attribute[household]`` too)."""

    api_key = fields.String()
    service_code = fields.String(required=True)
    lat = fields.Float()
    long = fields.Float()
    address_string = fields.String()
    address_id = fields.String(metadata={"description": "an estate id (or send attribute[estate])"})
    description = fields.String(metadata={"maxLength": 4000})
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String(required=True)
    email = fields.String()
    media_url = fields.String()


TAG = "open311"
KEY = Param("api_key", "query", "the API key (or send it as a bearer header)", schema={"type": "string"})

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/open311/v2/services.{format}",
        "Open311: the services (our case categories)",
        Open311ServiceSchema,
        params=(FORMAT, KEY),
        errors=(403, 404),
        tag=TAG,
        open311=True,
    ),
    Route(
        "GET",
        "/open311/v2/services/{service_code}.{format}",
        "Open311: a service's definition (the estate and household attributes)",
        None,
        params=(Param("service_code", "path", required=True), FORMAT, KEY),
        errors=(403, 404),
        tag=TAG,
        open311=True,
    ),
    Route(
        "POST",
        "/open311/v2/requests.{format}",
        "Open311: submit a service request (form-encoded)",
        Open311CreatedSchema,
        201,
        Open311SubmitSchema,
        params=(FORMAT,),
        errors=(403, 404),
        tag=TAG,
        open311=True,
    ),
    Route(
        "GET",
        "/open311/v2/requests.{format}",
        "Open311: service requests (by ids, or filters; the last 90 days by default)",
        Open311RequestSchema,
        params=(
            FORMAT,
            KEY,
            Param(
                "service_request_id",
                "query",
                "comma-separated ids",
                schema={"type": "string", "maxLength": 1000, "pattern": "^[0-9A-Za-z,-]*$"},
            ),
            Param("service_code", "query"),
            Param("start_date", "query", "RFC 3339", schema={"type": "string", "format": "date-time"}),
            Param("end_date", "query", "RFC 3339", schema={"type": "string", "format": "date-time"}),
            Param("status", "query", "open or closed", schema={"type": "string", "enum": ["open", "closed"]}),
        ),
        errors=(403, 404),
        tag=TAG,
        open311=True,
    ),
    Route(
        "GET",
        "/open311/v2/requests/{service_request_id}.{format}",
        "Open311: one service request",
        Open311RequestSchema,
        params=(Param("service_request_id", "path", required=True), FORMAT, KEY),
        errors=(403, 404),
        tag=TAG,
        open311=True,
    ),
)
