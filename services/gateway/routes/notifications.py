"""Contacts, preferences, notifications, the in-app inbox, broadcasts and webhook subscriptions."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.gateway import idempotency
from services.gateway.apidoc import PAGE, Param, Route, path_id
from services.gateway.http import BadRequest, endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.notifications.schemas import (
    BroadcastCreateSchema,
    BroadcastListQuerySchema,
    BroadcastSchema,
    ContactCreateSchema,
    ContactImportSchema,
    ContactSchema,
    DeliverySchema,
    ImportReportSchema,
    InboxMessageSchema,
    NotificationCreateSchema,
    NotificationSettingsSchema,
    NotificationSettingsViewSchema,
    PreferencesSchema,
    WebhookCreateSchema,
    WebhookDeliverySchema,
    WebhookSchema,
    WebhookSecretRotateSchema,
    WebhookTestSchema,
)


class NotificationRoutes(Plumbing):
    @endpoint("POST", "/api/v1/contacts")
    def save_contact(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "save_contact", tenant, read_json(request)))

    @endpoint("POST", "/api/v1/contact-imports", body_limit="MAX_IMPORT_BODY_BYTES")
    def import_contacts(self, request: Request) -> Response:
        """JSON ``{"contacts": [...]}`` or a CSV body (``Content-Type: text/csv``) with a header line."""
        tenant, _ = self._tenant(request)
        if (request.mimetype or "") == "text/csv":
            try:
                payload = {"csv": request.get_data(cache=True).decode("utf-8")}
            except UnicodeDecodeError:
                raise BadRequest("the CSV must be UTF-8") from None
        else:
            payload = read_json(request)
        return json_response(self._call("notifications", "import_contacts", tenant, payload))

    @endpoint("GET", "/api/v1/contacts/<string:contact_id>")
    def get_contact(self, request: Request, contact_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "get_contact", tenant, contact_id))

    @endpoint("PUT", "/api/v1/contacts/<string:contact_id>/preferences")
    def set_preferences(self, request: Request, contact_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "set_preferences", tenant, contact_id, read_json(request)))

    @endpoint("GET", "/api/v1/notification-settings")
    def get_notification_settings(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "get_settings", tenant))

    @endpoint("PUT", "/api/v1/notification-settings")
    def save_notification_settings(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "save_settings", tenant, read_json(request)))

    @endpoint("GET", "/api/v1/notifications")
    def list_notifications(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "deliveries_for", tenant, request.args.to_dict()))

    @endpoint("POST", "/api/v1/notifications")
    def create_notification(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        created = self._call("notifications", "create_notification", tenant, read_json(request))
        return json_response(created, 202, {"Location": f"/api/v1/notifications/{created['id']}"})

    @endpoint("GET", "/api/v1/notifications/<string:notification_id>")
    def get_notification(self, request: Request, notification_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "get_notification", tenant, notification_id))

    @endpoint("GET", "/api/v1/inbox")
    def inbox(self, request: Request) -> Response:
        caller = self._caller(request)
        query = request.args.to_dict()
        if caller.resident_phone:  # a resident app reads its own resident's inbox, links whole
            query["phone"] = caller.resident_phone
        resident = caller.resident_phone is not None
        return json_response(self._call("notifications", "inbox", caller.tenant, query, resident))

    @endpoint("POST", "/api/v1/inbox/<string:message_id>/read")
    def mark_read(self, request: Request, message_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "mark_read", tenant, message_id))

    @endpoint("POST", "/api/v1/broadcasts")
    def create_broadcast(self, request: Request) -> Response:
        tenant, actor = self._tenant(request)
        created = self._call("notifications", "create_broadcast", tenant, read_json(request), actor)
        return json_response(created, 202, {"Location": f"/api/v1/broadcasts/{created['id']}"})

    @endpoint("GET", "/api/v1/broadcasts")
    def list_broadcasts(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "list_broadcasts", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/broadcasts/<string:broadcast_id>")
    def get_broadcast(self, request: Request, broadcast_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "get_broadcast", tenant, broadcast_id))

    @endpoint("POST", "/api/v1/webhooks")
    def create_webhook(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        created = self._call("notifications", "create_webhook", tenant, read_json(request))
        return idempotency.shown_once(json_response(created, 201), "secret")  # never kept for a replay

    @endpoint("GET", "/api/v1/webhooks")
    def list_webhooks(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "list_webhooks", tenant))

    @endpoint("GET", "/api/v1/webhooks/<string:webhook_id>")
    def get_webhook(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "get_webhook", tenant, webhook_id))

    @endpoint("POST", "/api/v1/webhooks/<string:webhook_id>/test")
    def test_webhook(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "test_webhook", tenant, webhook_id), 202)

    @endpoint("POST", "/api/v1/webhooks/<string:webhook_id>/enable")
    def enable_webhook(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("notifications", "enable_webhook", tenant, webhook_id))

    @endpoint("DELETE", "/api/v1/webhooks/<string:webhook_id>")
    def delete_webhook(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        self._call("notifications", "delete_webhook", tenant, webhook_id)
        return Response(status=204)

    @endpoint("POST", "/api/v1/webhooks/<string:webhook_id>/secret")
    def rotate_webhook_secret(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request) if request.get_data(cache=True) else {}
        rotated = self._call("notifications", "rotate_webhook_secret", tenant, webhook_id, payload)
        return idempotency.shown_once(json_response(rotated), "secret")  # never kept for a replay

    @endpoint("GET", "/api/v1/webhooks/<string:webhook_id>/deliveries")
    def webhook_deliveries(self, request: Request, webhook_id: str) -> Response:
        tenant, _ = self._tenant(request)
        query = request.args.to_dict()
        return json_response(self._call("notifications", "webhook_deliveries", tenant, webhook_id, query))


CONTACT = path_id("contact_id")
WEBHOOK = path_id("webhook_id")
TAG = "notifications"

ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/api/v1/contacts", "Save a contact", ContactSchema, 200, ContactCreateSchema, errors=(422,), tag=TAG
    ),
    Route(
        "POST",
        "/api/v1/contact-imports",
        "Import up to 10,000 contacts (JSON, or CSV with a header line as text/csv); rejected rows reported",
        ImportReportSchema,
        200,
        ContactImportSchema,
        errors=(400, 422),
        tag=TAG,
    ),
    Route(
        "GET", "/api/v1/contacts/{contact_id}", "One contact", ContactSchema, params=(CONTACT,), errors=(404,), tag=TAG
    ),
    Route(
        "PUT",
        "/api/v1/contacts/{contact_id}/preferences",
        "A resident's channels per kind of message (critical messages ignore them)",
        ContactSchema,
        200,
        PreferencesSchema,
        params=(CONTACT,),
        errors=(404, 422),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/notification-settings",
        "Company name, hotline, quiet hours",
        NotificationSettingsViewSchema,
        tag=TAG,
    ),
    Route(
        "PUT",
        "/api/v1/notification-settings",
        "Set company name, hotline (template overrides) and quiet hours",
        NotificationSettingsViewSchema,
        200,
        NotificationSettingsSchema,
        errors=(422,),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/notifications",
        "Delivery records for one recipient",
        DeliverySchema,
        many=True,
        params=(Param("phone", "query", "mainland mobile", True), *PAGE),
        errors=(422,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/notifications",
        "Send a template to recipients or a topic (idempotent per key)",
        BroadcastSchema,
        202,
        NotificationCreateSchema,
        errors=(404, 422),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/notifications/{notification_id}",
        "A notification's progress and deliveries",
        BroadcastSchema,
        params=(path_id("notification_id"),),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/inbox",
        "A person's in-app inbox",
        InboxMessageSchema,
        many=True,
        params=(
            Param("phone", "query", "mainland mobile", True),
            Param("unread", "query", "only unread messages", schema={"type": "boolean"}),
            *PAGE,
        ),
        errors=(422,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/inbox/{message_id}/read",
        "Mark an inbox message read",
        InboxMessageSchema,
        params=(path_id("message_id"),),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/broadcasts",
        "A notice to every household of an estate or building",
        BroadcastSchema,
        202,
        BroadcastCreateSchema,
        errors=(404, 422),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/broadcasts",
        "The company's broadcasts with their progress, newest first (subject: those an incident caused)",
        BroadcastSchema,
        many=True,
        query=BroadcastListQuerySchema,
        errors=(422,),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/broadcasts/{broadcast_id}",
        "A broadcast's progress: total, sent, failed",
        BroadcastSchema,
        params=(path_id("broadcast_id"),),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/webhooks",
        "Subscribe an endpoint to event types (the secret is shown once)",
        WebhookSchema,
        201,
        WebhookCreateSchema,
        errors=(409, 422),
        tag=TAG,
    ),
    Route("GET", "/api/v1/webhooks", "The tenant's webhook subscriptions", WebhookSchema, many=True, tag=TAG),
    Route(
        "GET",
        "/api/v1/webhooks/{webhook_id}",
        "A subscription and its recent deliveries",
        WebhookSchema,
        params=(WEBHOOK,),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/webhooks/{webhook_id}/test",
        "Send a test event",
        WebhookTestSchema,
        202,
        params=(WEBHOOK,),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/webhooks/{webhook_id}/enable",
        "Enable a disabled endpoint again",
        WebhookSchema,
        params=(WEBHOOK,),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "DELETE",
        "/api/v1/webhooks/{webhook_id}",
        "Delete a subscription and its deliveries (queued ones are never sent)",
        None,
        204,
        params=(WEBHOOK,),
        errors=(404,),
        tag=TAG,
    ),
    Route(
        "POST",
        "/api/v1/webhooks/{webhook_id}/secret",
        "Rotate the signing secret: the new one is shown once; the old one keeps signing beside it "
        "(a second webhook-signature) for previous_valid_hours",
        WebhookSchema,
        200,
        WebhookSecretRotateSchema,
        body_required=False,
        params=(WEBHOOK,),
        errors=(404, 422),
        tag=TAG,
    ),
    Route(
        "GET",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        "The subscription's deliveries, newest first: status, attempts, last HTTP status, a generic error, times",
        WebhookDeliverySchema,
        many=True,
        params=(WEBHOOK, *PAGE),
        errors=(404, 422),
        tag=TAG,
    ),
)
