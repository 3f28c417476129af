"""What the notifications service accepts and returns."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.fields import MobilePhone, Text
from services.common.pages import PageQuerySchema

ROLES = ("resident", "staff", "volunteer", "supervisor")


class ContactCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    phone = MobilePhone(required=True)
    name = Text(50, load_default=None)
    email = fields.Email(load_default=None)
    role = fields.String(load_default="resident", validate=validate.OneOf(ROLES))


class ContactSchema(Schema):
    id = fields.String()
    phone = fields.String()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    role = fields.String()


class RecipientQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    phone = MobilePhone(required=True)


class DeliverySchema(Schema):
    id = fields.String()
    kind = fields.String()
    channel = fields.String()
    recipient_phone = fields.String()
    recipient_role = fields.String()
    subject = fields.String()
    body = fields.String(metadata={"description": "the text sent, survey links redacted"})
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    trigger_id = fields.String()
    created_at = fields.String()
    sent_at = fields.String(allow_none=True)
