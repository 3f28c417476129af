"""What the surveys service accepts and returns, and its event payloads."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from services.common.fields import MobilePhone, Text, Timestamp
from services.common.statistics import GroupedQuerySchema

SCORE = validate.Range(min=1, max=5, error="请选择 1 到 5 分 (must be 1–5)")
NPS = validate.Range(min=0, max=10, error="请选择 0 到 10 分 (must be 0–10)")
CES = validate.Range(min=1, max=7, error="请选择 1 到 7 分 (must be 1–7)")


class FormInteger(fields.Integer):
    """An integer from JSON or from a form's text ("5"), never a fraction or a boolean cast to one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool | float):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class AnswerSchema(Schema):
    """An answer from the resident's page (form or JSON). Unknown form fields are ignored.

    Questions the survey's template did not ask are dropped, whatever was sent.
    """

    class Meta:
        unknown = EXCLUDE

    score = FormInteger(required=True, validate=SCORE, metadata={"description": "overall satisfaction (CSAT)"})
    speed = FormInteger(load_default=None, validate=SCORE, metadata={"description": "响应速度"})
    attitude = FormInteger(load_default=None, validate=SCORE, metadata={"description": "服务态度"})
    quality = FormInteger(load_default=None, validate=SCORE, metadata={"description": "处理质量"})
    nps = FormInteger(load_default=None, validate=NPS, metadata={"description": "likelihood to recommend, 0–10"})
    ces = FormInteger(load_default=None, validate=CES, metadata={"description": "effort, 1 (easy) – 7 (hard)"})
    solved = fields.Boolean(load_default=None)
    comment = Text(1000, load_default=None)


class SurveySchema(Schema):
    """A survey as the tenant sees it: never its token."""

    id = fields.String()
    case_id = fields.String()
    status = fields.String()
    template_version = fields.Integer()
    link_due_at = Timestamp()
    link_sent_at = Timestamp(allow_none=True)
    reminder_sent_at = Timestamp(allow_none=True)
    expires_at = Timestamp()
    score = fields.Integer(allow_none=True)
    speed = fields.Integer(allow_none=True)
    attitude = fields.Integer(allow_none=True)
    quality = fields.Integer(allow_none=True)
    nps = fields.Integer(allow_none=True)
    ces = fields.Integer(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    comment = fields.String(allow_none=True)
    flagged_burst = fields.Boolean(metadata={"description": "answered in a burst from one client"})
    verified = fields.Boolean(
        metadata={"description": "answered by a phone the community confirmed in the household (counts in public)"}
    )
    created_at = Timestamp()
    answered_at = Timestamp(allow_none=True)
    reopened_at = Timestamp(allow_none=True)


class TemplateCreateSchema(Schema):
    """A new version of the tenant's questionnaire: which optional questions to ask."""

    title = Text(100, load_default="满意度评价")
    speed = fields.Boolean(load_default=True, metadata={"description": "ask 响应速度 1–5"})
    attitude = fields.Boolean(load_default=True, metadata={"description": "ask 服务态度 1–5"})
    quality = fields.Boolean(load_default=True, metadata={"description": "ask 处理质量 1–5"})
    nps = fields.Boolean(load_default=False, metadata={"description": "ask NPS 0–10"})
    ces = fields.Boolean(load_default=False, metadata={"description": "ask CES 1–7"})
    solved = fields.Boolean(load_default=True, metadata={"description": "ask whether the problem was solved"})
    comment = fields.Boolean(load_default=True, metadata={"description": "offer a free-text comment"})


class TemplateSchema(Schema):
    version = fields.Integer(metadata={"description": "0 is the built-in default"})
    title = fields.String()
    speed = fields.Boolean()
    attitude = fields.Boolean()
    quality = fields.Boolean()
    nps = fields.Boolean()
    ces = fields.Boolean()
    solved = fields.Boolean()
    comment = fields.Boolean()
    created_at = Timestamp(allow_none=True)


class SettingsSchema(Schema):
    """A tenant's survey timing (PUT: the fields sent replace the stored ones)."""

    link_delay_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=7 * 24 * 60),
        metadata={"description": "wait before sending the link"},
    )
    expiry_days = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=90), metadata={"description": "link validity"}
    )
    reminder_after_hours = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=90 * 24),
        metadata={"description": "one reminder when unanswered"},
    )


class StatisticsQuerySchema(GroupedQuerySchema):
    """Which groups, over which months (of issue, Asia/Shanghai)."""


class StatisticsRowSchema(Schema):
    """One group's figures; keys absent from ``group_by`` are null."""

    estate_id = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    month = fields.String(allow_none=True)
    issued = fields.Integer(metadata={"description": "links sent, voided excluded"})
    responses = fields.Integer()
    response_rate = fields.Float(allow_none=True, metadata={"description": "responses / issued, 0–1"})
    csat = fields.Float(allow_none=True, metadata={"description": "share of overall scores 4–5, 0–1"})
    csat_mean = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True, metadata={"description": "% promoters (9–10) − % detractors (0–6)"})
    nps_responses = fields.Integer()
    ces_mean = fields.Float(allow_none=True)
    low_scores = fields.Integer(metadata={"description": "overall ≤ 2 or not solved"})
    reopened_after_survey = fields.Integer()
    flagged_burst = fields.Integer(metadata={"description": "answers flagged as bursts from one client"})
    unverified_responses = fields.Integer(
        metadata={
            "description": "answers (included above) not given by a phone the community confirmed in the "
            "household: they never count in the public league"
        }
    )


class LeagueRowSchema(Schema):
    """One company or estate in the public league table: verified answers only (groups under 5 withheld)."""

    tenant = fields.String()
    company = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)
    estate = fields.String(allow_none=True)
    responses = fields.Integer()
    csat = fields.Float()
    csat_mean = fields.Float()
    nps = fields.Float(allow_none=True)
    response_rate = fields.Float(allow_none=True)


class LeagueSchema(Schema):
    companies = fields.List(fields.Nested(LeagueRowSchema))
    estates = fields.List(fields.Nested(LeagueRowSchema))
    suppressed = fields.Integer(metadata={"description": "groups withheld for having fewer than 5 answers"})
    minimum_answers = fields.Integer()


class HouseholdSchema(Schema):
    """A household a campaign asks, with the contact who receives the link."""

    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    household = Text(50, required=True, metadata={"example": "3-2-501"})
    name = Text(50, required=True)
    phone = MobilePhone(required=True)


class CampaignCreateSchema(Schema):
    """An estate-wide survey: every household listed gets one link (a household listed twice, once)."""

    title = Text(100, required=True, metadata={"example": "2026年第四季度物业服务满意度调查"})
    households = fields.List(fields.Nested(HouseholdSchema), required=True, validate=validate.Length(min=1, max=10_000))
    expiry_days = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=90))


class CampaignEstateSchema(Schema):
    estate_id = fields.String()
    households = fields.Integer()
    answered = fields.Integer()
    response_rate = fields.Float()


class CampaignSchema(Schema):
    """A campaign and its response rate (never a household's link)."""

    id = fields.String()
    title = fields.String()
    estate_ids = fields.List(fields.String())
    households = fields.Integer()
    template_version = fields.Integer()
    expires_at = Timestamp()
    created_at = Timestamp()
    answered = fields.Integer(dump_only=True)
    response_rate = fields.Float(allow_none=True, dump_only=True)
    open = fields.Boolean(dump_only=True)
    estates = fields.List(fields.Nested(CampaignEstateSchema), dump_only=True)
    duplicates_skipped = fields.Integer(dump_only=True, metadata={"description": "on creation only"})


class SurveyPageSchema(Schema):
    """What the resident's page shows: the case title and state, nothing personal."""

    status = fields.String()
    case_title = fields.String()
    category = fields.String()
    expires_at = Timestamp()
    score = fields.Integer(allow_none=True)
    questions = fields.Nested(TemplateSchema, dump_only=True)


class SurveyEventSchema(Schema):
    """``data`` of survey.issued, survey.reminder_due, survey.answered, survey.low_score and survey.answer_voided.

    ``link`` and ``recipient`` are set only in the events that send the link (issued, reminder_due);
    ``reason`` and ``reopened_at`` only in survey.answer_voided (see services/surveys/voiding.py).
    """

    survey_id = fields.String(required=True)
    case_id = fields.String(required=True)
    estate_id = fields.String(required=True)
    status = fields.String(required=True)
    score = fields.Integer(allow_none=True)
    solved = fields.Boolean(allow_none=True)
    nps = fields.Integer(allow_none=True)
    ces = fields.Integer(allow_none=True)
    template_version = fields.Integer()
    flagged_burst = fields.Boolean()
    verified = fields.Boolean(metadata={"description": "answered by a confirmed member of the household"})
    recipient = fields.Dict(allow_none=True)
    link = fields.String(allow_none=True)
    reminder = fields.Boolean()
    expires_at = fields.String(required=True)
    case_title = fields.String(required=True)
    answered_at = fields.String(allow_none=True, metadata={"description": "when the answer was recorded (UTC)"})
    reason = fields.String(metadata={"description": "survey.answer_voided: why the answer no longer counts"})
    reopened_at = fields.String(metadata={"description": "survey.answer_voided: when the case was reopened"})
