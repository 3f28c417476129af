"""Volunteers and their follow-up visits."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import ValidationFailed
from services.gateway.apidoc import Route, path_id
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.volunteers.schemas import VisitCompleteSchema, VisitSchema, VolunteerCreateSchema, VolunteerSchema


class VolunteerRoutes(Plumbing):
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


ROUTES: tuple[Route, ...] = (
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
        "/api/v1/visits/{visit_id}/complete",
        "Record a visit's outcome",
        VisitSchema,
        200,
        VisitCompleteSchema,
        params=(path_id("visit_id"),),
        errors=(404, 409, 422),
        tag="volunteers",
    ),
)
