"""What the volunteers service accepts and returns, and its event payloads."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.fields import MobilePhone, Text

SKILLS = ("visit", "repair", "electrical", "plumbing", "medical", "haircut", "escort", "cultural", "cleaning")
OUTCOMES = ("satisfied", "unsatisfied", "unreachable")


class VolunteerCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = Text(50, required=True)
    phone = MobilePhone(required=True, metadata={"example": "13900139000"})
    estate_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    skills = fields.List(fields.String(validate=validate.OneOf(SKILLS)), load_default=lambda: ["visit"])
    active = fields.Boolean(load_default=True)


class VolunteerSchema(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()
    estate_ids = fields.List(fields.String())
    skills = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.DateTime()


class VisitCompleteSchema(Schema):
    class Meta:
        unknown = RAISE

    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    notes = Text(1000, load_default=None)


class VisitSchema(Schema):
    id = fields.String()
    case_id = fields.String()
    estate_id = fields.String()
    volunteer_id = fields.String(allow_none=True)
    status = fields.String()
    due_at = fields.DateTime()
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class VisitEventSchema(Schema):
    visit_id = fields.String(required=True)
    case_id = fields.String(required=True)
    estate_id = fields.String(required=True)
    volunteer_id = fields.String(allow_none=True)
    volunteer_name = fields.String(allow_none=True)
    volunteer_phone = fields.String(allow_none=True)
    resident = fields.Dict(required=True)
    case_title = fields.String(required=True)
    due_at = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
