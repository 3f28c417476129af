"""What the surveys service accepts and returns, and its event payloads."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from services.common.fields import Text

SCORE = validate.Range(min=1, max=5, error="请选择 1 到 5 分 (must be 1–5)")


class AnswerSchema(Schema):
    """An answer from the resident's page (form or JSON). Unknown form fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    score = fields.Integer(required=True, validate=SCORE)
    speed = fields.Integer(load_default=None, validate=SCORE)
    attitude = fields.Integer(load_default=None, validate=SCORE)
    quality = fields.Integer(load_default=None, validate=SCORE)
    solved = fields.Boolean(load_default=None)
    comment = Text(1000, load_default=None)


class SurveySchema(Schema):
    """A survey as the tenant sees it: never its token."""

    id = fields.String()
    case_id = fields.String()
    status = fields.String()
    expires_at = fields.DateTime()
    score = fields.Integer(allow_none=True)
    speed = fields.Integer(allow_none=True)
    attitude = fields.Integer(allow_none=True)
    quality = fields.Integer(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)


class SurveyPageSchema(Schema):
    """What the resident's page shows: the case title and state, nothing personal."""

    status = fields.String()
    case_title = fields.String()
    category = fields.String()
    expires_at = fields.DateTime()
    score = fields.Integer(allow_none=True)


class SurveyEventSchema(Schema):
    survey_id = fields.String(required=True)
    case_id = fields.String(required=True)
    estate_id = fields.String(required=True)
    status = fields.String(required=True)
    score = fields.Integer(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    recipient = fields.Dict(allow_none=True)
    link = fields.String(allow_none=True)
    expires_at = fields.String(required=True)
    case_title = fields.String(required=True)
