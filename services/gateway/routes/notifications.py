"""Contacts and delivery records."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.gateway.apidoc import PAGE, Param, Route
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.notifications.schemas import ContactCreateSchema, ContactSchema, DeliverySchema


class NotificationRoutes(Plumbing):
    @endpoint("POST", "/api/v1/contacts")
    def save_contact(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "save_contact", tenant, read_json(request)))

    @endpoint("GET", "/api/v1/notifications")
    def list_notifications(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "deliveries_for", tenant, request.args.to_dict()))


ROUTES: tuple[Route, ...] = (
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
)
