"""What the notifications service accepts and returns."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate, validates, validates_schema

from services.common.fields import MobilePhone, Text
from services.common.pages import PageQuerySchema
from services.notifications.preferences import KINDS
from services.notifications.quiet_hours import parse_clock
from services.notifications.settings import KNOWN_CHANNELS
from services.notifications.templates import TEMPLATES

ROLES = ("resident", "staff", "volunteer", "supervisor")
WEBHOOK_EVENTS = ("case.submitted", "case.status_changed", "case.closed", "survey.answered", "survey.answer_voided")
MAX_IMPORT_ROWS = 10_000


class Teams(fields.List):
    """A list of team names; CSV cells give them as "义务维修队;红新小分队"."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(Text(50), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(value, str):
            value = [part for part in value.replace("；", ";").split(";") if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


class Blank(fields.String):
    """Optional text where an empty CSV cell means "not given"."""

    def __init__(self, max_length: int, **kwargs: object) -> None:
        super().__init__(validate=validate.Length(max=max_length), load_default=None, allow_none=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        return text or None


class ContactCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    phone = MobilePhone(required=True)
    name = Blank(50)
    email = fields.Email(load_default=None, allow_none=True)
    role = fields.String(load_default="resident", validate=validate.OneOf(ROLES))
    wechat_openid = Blank(64)
    estate_id = Blank(64)
    household = Blank(50, metadata={"description": "building-unit-room, e.g. 3-2-501"})
    building = Blank(20, metadata={"description": "defaults to the household's first part"})
    teams = Teams(load_default=None, allow_none=True)

    @pre_load
    def _drop_blanks(self, data: object, **kwargs: object) -> object:
        """An empty CSV cell (or a blank string) means "not given"."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class ContactImportRowSchema(ContactCreateSchema):
    class Meta:
        unknown = EXCLUDE


class ContactImportSchema(Schema):
    class Meta:
        unknown = RAISE

    contacts = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_IMPORT_ROWS))


class ContactSchema(Schema):
    id = fields.String()
    phone = fields.String()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    role = fields.String()
    wechat_openid = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)
    household = fields.String(allow_none=True)
    building = fields.String(allow_none=True)
    teams = fields.List(fields.String())
    preferences = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class RejectedRowSchema(Schema):
    row = fields.Integer(metadata={"description": "1-based data row (CSV: line minus the header)"})
    errors = fields.Dict()


class ImportReportSchema(Schema):
    received = fields.Integer()
    imported = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))


class PreferencesSchema(Schema):
    class Meta:
        unknown = RAISE

    preferences = fields.Dict(
        keys=fields.String(validate=validate.OneOf(KINDS)),
        values=fields.List(fields.String(validate=validate.OneOf(KNOWN_CHANNELS))),
        required=True,
        metadata={"description": "kind of message → channels wanted; in-app is always delivered"},
    )


def _clock(value: str) -> None:
    try:
        parse_clock(value)
    except ValueError as exc:
        raise ValidationError("应为 HH:MM (must be HH:MM)") from exc


class QuietHoursSchema(Schema):
    class Meta:
        unknown = RAISE

    start = fields.String(required=True, validate=_clock)
    end = fields.String(required=True, validate=_clock)
    timezone = fields.String(load_default="Asia/Shanghai")

    @validates("timezone")
    def _zone(self, value: str, **kwargs: object) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("unknown time zone") from exc


class NotificationSettingsSchema(Schema):
    class Meta:
        unknown = RAISE

    company_name = Text(50, allow_none=True)
    hotline = Text(30, allow_none=True)
    quiet_hours = fields.Nested(QuietHoursSchema)


class NotificationSettingsViewSchema(Schema):
    company_name = fields.String(allow_none=True)
    hotline = fields.String(allow_none=True)
    quiet_hours = fields.Nested(QuietHoursSchema)


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
    status = fields.String(metadata={"description": "queued, sent, delivered, failed or suppressed"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    trigger_id = fields.String()
    created_at = fields.String()
    sent_at = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)


class InboxMessageSchema(Schema):
    id = fields.String()
    subject = fields.String()
    body = fields.String()
    created_at = fields.String()
    read_at = fields.String(allow_none=True)


class TopicSchema(Schema):
    class Meta:
        unknown = RAISE

    estate_ids = fields.List(Text(64), validate=validate.Length(min=1, max=50))
    building = Text(20)
    team = Text(50)

    @validates_schema
    def _one_topic(self, data: dict, **kwargs: object) -> None:
        if bool(data.get("estate_ids")) == bool(data.get("team")):
            raise ValidationError("give estate_ids (optionally with building) or team", "_schema")
        if data.get("building") and not data.get("estate_ids"):
            raise ValidationError("a building belongs to an estate: give estate_ids", "building")


class NotificationCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    template = fields.String(required=True, validate=validate.OneOf(sorted(TEMPLATES)))
    recipients = fields.List(MobilePhone(), validate=validate.Length(min=1, max=1000))
    topic = fields.Nested(TopicSchema)
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    severity = fields.String(load_default="normal", validate=validate.OneOf(("normal", "critical")))
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=100))

    @validates_schema
    def _recipients_or_topic(self, data: dict, **kwargs: object) -> None:
        if bool(data.get("recipients")) == bool(data.get("topic")):
            raise ValidationError("give recipients or a topic, not both", "_schema")


class BroadcastCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    estate_id = Text(64, required=True)
    building = Text(20, load_default=None)
    title = Text(60, required=True)
    body = Text(500, required=True)
    severity = fields.String(load_default="normal", validate=validate.OneOf(("normal", "critical")))
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=1, max=100))


class ProgressSchema(Schema):
    total = fields.Integer()
    pending = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()


class BroadcastListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    subject = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "only the broadcasts an event about this subject caused (an incident's id)"},
    )


class BroadcastSchema(Schema):
    id = fields.String()
    kind = fields.String()
    template = fields.String()
    title = fields.String(allow_none=True, metadata={"description": "the notice's or incident's title"})
    subject = fields.String(allow_none=True, metadata={"description": "what caused it: an incident's id, or null"})
    created_by = fields.String(allow_none=True, metadata={"description": "who sent a notice: a key or a person"})
    severity = fields.String()
    topic = fields.Dict()
    status = fields.String(metadata={"description": "sending or done"})
    total = fields.Integer()
    pending = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    channels = fields.Dict(metadata={"description": "channel → status → count of deliveries"})
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


class WebhookCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=500))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)), required=True, validate=validate.Length(min=1)
    )


class WebhookDeliverySchema(Schema):
    id = fields.String()
    event_id = fields.String(metadata={"description": "the webhook-id header: the same on every retry"})
    event_type = fields.String()
    status = fields.String(metadata={"description": "queued, sent or failed"})
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True, metadata={"description": "the last answer's HTTP status"})
    last_error = fields.String(
        allow_none=True,
        metadata={
            "description": "generic: HTTP <status>, connection failed, timed out, address not allowed, "
            "endpoint disabled (never what the receiver or a socket said)"
        },
    )
    created_at = fields.String(metadata={"description": "RFC 3339, UTC (Z)"})
    last_attempt_at = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True, metadata={"description": "when a queued delivery is tried next"})
    sent_at = fields.String(allow_none=True)


class WebhookSchema(Schema):
    id = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    status = fields.String(metadata={"description": "active, or disabled after sustained failures"})
    consecutive_failures = fields.Integer()
    failing_since = fields.String(allow_none=True)
    disabled_at = fields.String(allow_none=True)
    created_at = fields.String()
    previous_secret_expires_at = fields.String(
        allow_none=True, metadata={"description": "after a rotation: until then deliveries carry both signatures"}
    )
    secret = fields.String(
        metadata={"description": "whsec_…, shown only when the subscription is created or its secret rotated"}
    )
    recent_deliveries = fields.List(fields.Nested(WebhookDeliverySchema))


class WebhookSecretRotateSchema(Schema):
    class Meta:
        unknown = RAISE

    previous_valid_hours = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=168),
        metadata={
            "description": "how long the old secret keeps signing beside the new one "
            "(0: revoked at once; default WEBHOOK_SECRET_GRACE_HOURS, 24)"
        },
    )


class WebhookTestSchema(Schema):
    id = fields.String()
    event_id = fields.String()
    status = fields.String()
