"""A company's own API keys (admins only) and ``/api/v1/me``: who a key is."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request, Response

from services.common.errors import validated
from services.common.fields import Text, Timestamp
from services.gateway import idempotency, tenants
from services.gateway.apidoc import Route, path_id
from services.gateway.authorization import Forbidden
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing
from services.gateway.ratelimit import limits_of

COMPANY_ROLES = ("company_admin", "company_staff")
OPERATOR_ONLY = "resident_app keys are issued by the platform operator (lianxin app-key issue), not by a company"


def rate_limit_text(text: str) -> None:
    """A limit in the ``limits`` notation, e.g. ``100/second`` or ``100/second;2000/minute``."""
    try:
        limits_of(text)
    except ValueError:
        raise ValidationError("应形如 100/second 或 100/second;2000/minute (e.g. 100/second)") from None


class KeyCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    role = fields.String(required=True, validate=validate.OneOf(COMPANY_ROLES))
    rate_limit = Text(
        64,
        load_default=None,
        validate=rate_limit_text,
        metadata={"description": "overrides the default, e.g. 100/second;2000/minute", "example": "100/second"},
    )


class KeySchema(Schema):
    id = fields.String()
    prefix = fields.String(metadata={"description": "the first 12 characters, to recognise a key"})
    role = fields.String()
    rate_limit = fields.String(allow_none=True)
    created_at = Timestamp()
    revoked_at = Timestamp(allow_none=True)


class KeyCreatedSchema(KeySchema):
    api_key = fields.String(metadata={"description": "the key itself: shown this once, never again"})


class MeSchema(Schema):
    tenant_id = fields.String()
    tenant = fields.String()
    community = fields.String(allow_none=True)
    role = fields.String()
    key_prefix = fields.String()


def issued(session: Session, tenant_id: str, payload: object) -> dict:
    """A new key of the company as ``POST /api/v1/keys`` answers it, the key itself included (the
    caller shows it once and keeps it nowhere); the API and the workbench's keys page both issue here."""
    data = validated(KeyCreateSchema(), payload)
    key = tenants.issue_key(session, tenant_id, role=data["role"], rate_limit=data["rate_limit"])
    return KeySchema().dump(tenants.authenticate(session, key)[1]) | {"api_key": key}


def revoked_key(session: Session, tenant_id: str, key_id: str, current: str) -> dict:
    """Revoke one of the company's keys, not an app's (the operator's) nor ``current`` (the caller's
    own key; the workbench, which has no key, passes the person's actor, which is no key's id)."""
    if tenants.role_of(session, key_id) == "resident_app":
        raise Forbidden("an app key is the platform operator's to revoke (lianxin key revoke)")
    return KeySchema().dump(tenants.revoke_key(session, tenant_id, key_id, current))


class KeyRoutes(Plumbing):
    @endpoint("GET", "/api/v1/me")
    def me(self, request: Request) -> Response:
        caller = self._caller(request)
        name, _, prefix = caller.actor.rpartition("/")
        return json_response(
            {
                "tenant_id": caller.tenant,
                "tenant": name,
                "community": caller.community,
                "role": caller.role,
                "key_prefix": prefix,
            }
        )

    @endpoint("GET", "/api/v1/keys")
    def list_keys(self, request: Request) -> Response:
        caller = self._caller(request)
        with self.db.read() as session:
            keys = KeySchema(many=True).dump(tenants.list_keys(session, caller.tenant))
        return json_response({"data": keys, "has_more": False})

    @endpoint("POST", "/api/v1/keys")
    def create_key(self, request: Request) -> Response:
        caller = self._caller(request)
        payload = read_json(request)
        if isinstance(payload, dict) and payload.get("role") == "resident_app":
            raise Forbidden(OPERATOR_ONLY)  # an app acts for residents only with their consent, not a company's
        with self.db.transaction() as session:
            created = issued(session, caller.tenant, payload)
        return idempotency.shown_once(json_response(created, 201), "api_key")  # never kept for a replay

    @endpoint("POST", "/api/v1/keys/<string:key_id>/revoke")
    def revoke_key(self, request: Request, key_id: str) -> Response:
        caller = self._caller(request)
        with self.db.transaction() as session:
            revoked = revoked_key(session, caller.tenant, key_id, caller.key_id)
        return json_response(revoked)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/v1/me", "Who this key is: tenant, community, role", MeSchema, tag="keys"),
    Route("GET", "/api/v1/keys", "The company's API keys (prefixes only)", KeySchema, many=True, tag="keys"),
    Route(
        "POST",
        "/api/v1/keys",
        "Issue a key with a role; the key is in this answer only",
        KeyCreatedSchema,
        201,
        KeyCreateSchema,
        errors=(403, 422),
        tag="keys",
    ),
    Route(
        "POST",
        "/api/v1/keys/{key_id}/revoke",
        "Revoke a key (not the one making the call)",
        KeySchema,
        params=(path_id("key_id"),),
        errors=(403, 404, 409),
        tag="keys",
    ),
)
