"""What the requests service accepts and returns, and the payload of its events."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.fields import MobilePhone, Text, Timestamp
from services.common.pages import PageQuerySchema
from services.requests.lifecycle import ACTIONS, STATES

CATEGORIES = ("repair", "complaint", "suggestion", "consultation", "emergency")
CHANNELS = ("phone", "wechat", "walk_in", "app")
PRIORITIES = ("low", "normal", "high", "urgent")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class EstateCreateSchema(StrictSchema):
    name = Text(50, required=True)
    address = Text(200, load_default=None)
    households = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0, max=100_000))


class EstateSchema(Schema):
    id = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    households = fields.Integer(allow_none=True)
    created_at = Timestamp()


class ReporterSchema(StrictSchema):
    name = Text(50, required=True)
    phone = MobilePhone(required=True, metadata={"example": "13800138000"})
    household = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^\d{1,3}-\d{1,2}-\d{2,5}$", error="门牌应为 楼-单元-房号, 如 3-2-501 (building-unit-room)"
        ),
        metadata={"example": "3-2-501"},
    )


class CaseCreateSchema(StrictSchema):
    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = Text(100, required=True)
    description = Text(2000, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    reporter = fields.Nested(ReporterSchema, required=True)


class TransitionSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    note = Text(1000, load_default=None)
    assignee = Text(100, load_default=None)


class CaseListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(STATES))
    estate_id = fields.String(load_default=None, validate=validate.Length(max=64))


class HistoryEntrySchema(Schema):
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    source = fields.String()
    note = fields.String(allow_none=True)
    at = Timestamp()


class ReporterOutSchema(Schema):
    name = fields.String()
    phone = fields.String()
    household = fields.String()


class CaseSchema(Schema):
    id = fields.String()
    estate_id = fields.String()
    category = fields.String()
    title = fields.String()
    description = fields.String()
    channel = fields.String()
    priority = fields.String()
    status = fields.String()
    assignee = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    reopen_count = fields.Integer()
    reporter = fields.Nested(ReporterOutSchema)
    created_at = Timestamp()
    updated_at = Timestamp()
    resolved_at = Timestamp(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    allowed_actions = fields.List(fields.String())
    history = fields.List(fields.Nested(HistoryEntrySchema))


class CaseEventSchema(Schema):
    """``data`` of every case.* event: enough for consumers to act without calling back."""

    case_id = fields.String(required=True)
    estate_id = fields.String(required=True)
    category = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    previous_status = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    reporter = fields.Nested(ReporterOutSchema, required=True)
    note = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    reopen_count = fields.Integer()
