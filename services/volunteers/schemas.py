"""What the volunteers service accepts and returns, and its event payloads.

Times in and out of the API are ISO 8601; a time without an offset is read as Asia/Shanghai
local time (what staff type), and every time returned or put in an event is UTC with ``Z``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common.fields import MobilePhone, Text, Timestamp
from services.common.fields import utc_text as common_utc_text

#: The fixed list of skills a volunteer can declare (and a shift can need).
SKILLS = (
    "visit",
    "repair",
    "electrical",
    "plumbing",
    "medical",
    "haircut",
    "escort",
    "cultural",
    "cleaning",
    "knife_sharpening",
    "appliance_repair",
    "fire_safety",
)
OUTCOMES = ("satisfied", "unsatisfied", "unreachable")
#: Kinds of community activity: 义诊, 义务理发, 磨刀, 维修小家电, 红色电影, 消防讲座, 红歌, other.
ACTIVITY_KINDS = (
    "free_clinic",
    "haircut",
    "knife_sharpening",
    "appliance_repair",
    "red_film",
    "fire_safety_talk",
    "red_song",
    "other",
)
HOURS_GROUPS = ("volunteer", "team", "estate", "month", "year")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _id(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


def _skills(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(SKILLS)), validate=validate.Length(max=len(SKILLS)), **kwargs
    )


def _estates(**kwargs: Any) -> fields.List:
    return fields.List(_id(), validate=validate.Length(min=1, max=50), **kwargs)


def _clock(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(CLOCK, error="时间格式应为 HH:MM (expected HH:MM, 00:00–23:59)"),
        metadata={"example": "09:00"},
        **kwargs,
    )


def utc_text(moment: datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with ``Z``, to the second (the volunteers' events)."""
    return common_utc_text(moment, "seconds")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


# --- registry -------------------------------------------------------------------------------


class AvailabilitySlotSchema(StrictSchema):
    """A weekly slot in Asia/Shanghai local time: weekday 0 (Monday) … 6 (Sunday)."""

    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=6))
    start = _clock(required=True)
    end = _clock(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _start_before_end(self, data: dict, **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise ValidationError("开始时间必须早于结束时间 (start must be before end)", "end")


class VolunteerCreateSchema(StrictSchema):
    name = Text(50, required=True)
    phone = MobilePhone(required=True, metadata={"example": "13900139000"})
    party_member = fields.Boolean(load_default=False)
    estate_ids = _estates(required=True)
    skills = _skills(load_default=lambda: ["visit"])
    availability = fields.List(
        fields.Nested(AvailabilitySlotSchema), load_default=list, validate=validate.Length(max=50)
    )
    active = fields.Boolean(load_default=True)


class VolunteerUpdateSchema(StrictSchema):
    """Any subset of a volunteer's fields; ``active: false`` pauses the volunteer."""

    name = Text(50)
    phone = MobilePhone(metadata={"example": "13900139000"})
    party_member = fields.Boolean()
    estate_ids = _estates()
    skills = _skills()
    availability = fields.List(fields.Nested(AvailabilitySlotSchema), validate=validate.Length(max=50))
    active = fields.Boolean()


class VolunteerSchema(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()
    party_member = fields.Boolean()
    estate_ids = fields.List(fields.String())
    skills = fields.List(fields.String())
    availability = fields.List(fields.Nested(AvailabilitySlotSchema))
    active = fields.Boolean()
    team_ids = fields.List(fields.String())
    created_at = Timestamp()


class TeamCreateSchema(StrictSchema):
    name = Text(50, required=True, metadata={"example": "义务维修队"})
    description = Text(500, load_default=None)
    leader_id = _id(required=True)
    member_ids = fields.List(_id(), required=True, validate=validate.Length(min=1, max=200))

    @validates_schema(skip_on_field_errors=False)
    def _leader_is_member(self, data: dict, **kwargs: Any) -> None:
        if "leader_id" in data and "member_ids" in data and data["leader_id"] not in data["member_ids"]:
            raise ValidationError("队长必须是队员 (the leader must be a member)", "leader_id")


class TeamUpdateSchema(StrictSchema):
    name = Text(50)
    description = Text(500, allow_none=True)
    leader_id = _id()


class TeamMemberSchema(StrictSchema):
    volunteer_id = _id(required=True)


class TeamSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    leader_id = fields.String()
    member_ids = fields.List(fields.String())
    created_at = Timestamp()


# --- visits ---------------------------------------------------------------------------------


class VisitCompleteSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    notes = Text(1000, load_default=None)
    hours = fields.Float(
        load_default=1.0,
        validate=validate.Range(min=0.25, max=12),
        metadata={"description": "service hours credited to the volunteer (default 1)"},
    )


class OwnVisitCompleteSchema(StrictSchema):
    """The volunteer completing their own visit: the outcome and notes (hours are staff's to set)."""

    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    notes = Text(1000, load_default=None)


class VisitDeclineSchema(StrictSchema):
    volunteer_id = _id(required=True)
    reason = Text(500, load_default=None)


class VisitSchema(Schema):
    id = fields.String()
    case_id = fields.String()
    estate_id = fields.String()
    volunteer_id = fields.String(allow_none=True)
    status = fields.String()
    due_at = Timestamp()
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    created_at = Timestamp()
    completed_at = Timestamp(allow_none=True)
    assigned_at = Timestamp(allow_none=True)
    accepted_at = Timestamp(allow_none=True)
    declined_by = fields.List(fields.String())
    declines = fields.List(
        fields.Dict(), metadata={"description": "each decline: {volunteer_id, reason, at} (why the visit moved)"}
    )
    overdue_count = fields.Integer()


class VolunteerRoleSchema(Schema):
    """One registration of a phone in the registry: the volunteer pages ask for all of them."""

    tenant = fields.String()
    volunteer_id = fields.String()
    name = fields.String()
    active = fields.Boolean()


class OwnVisitSchema(Schema):
    """A visit as its volunteer sees it on their page (``resident_*`` only while it is open)."""

    id = fields.String()
    case_id = fields.String()
    case_title = fields.String()
    estate_id = fields.String()
    household = fields.String()
    building = fields.String()
    status = fields.String(metadata={"description": "scheduled, completed or cancelled"})
    state = fields.String(metadata={"description": "assigned, accepted, overdue, done or cancelled"})
    due_at = Timestamp()
    accepted_at = Timestamp(allow_none=True)
    completed_at = Timestamp(allow_none=True)
    outcome = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    resident_name = fields.String(allow_none=True)
    resident_phone = fields.String(allow_none=True)
    actions = fields.List(fields.String(), metadata={"description": "accept, complete, decline: what may be done now"})


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


class VisitOverdueEventSchema(Schema):
    """``visit.overdue``: ``reassigned_to`` is null when the visit is left for staff; the
    volunteer who missed it is named so that they can be told."""

    visit_id = fields.String(required=True)
    case_id = fields.String(required=True)
    estate_id = fields.String(required=True)
    case_title = fields.String(required=True)
    volunteer_id = fields.String(allow_none=True)
    volunteer_name = fields.String(allow_none=True)
    volunteer_phone = fields.String(allow_none=True)
    due_at = fields.String(required=True)
    reassigned_to = fields.String(allow_none=True)


# --- hours ledger ---------------------------------------------------------------------------


class HoursCorrectionSchema(StrictSchema):
    """A correction is a new ledger line (positive or negative) pointing at the line it corrects."""

    corrects_entry_id = _id(required=True)
    hours = fields.Float(required=True, validate=validate.Range(min=-24, max=24))
    reason = Text(200, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _not_zero(self, data: dict, **kwargs: Any) -> None:
        if "hours" in data and round(data["hours"] * 60) == 0:
            raise ValidationError("更正时长不能为零 (a correction must change the hours)", "hours")


class PeriodQuerySchema(StrictSchema):
    """An optional Asia/Shanghai year, or month of a year."""

    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    month = fields.Integer(load_default=None, validate=validate.Range(min=1, max=12))

    @validates_schema(skip_on_field_errors=False)
    def _month_needs_year(self, data: dict, **kwargs: Any) -> None:
        if data.get("month") is not None and data.get("year") is None:
            raise ValidationError("指定月份时必须指定年份 (month needs year)", "month")


class HoursQuerySchema(PeriodQuerySchema):
    """The ledger: optionally one volunteer's lines."""

    volunteer_id = _id(load_default=None)


class HoursTotalsQuerySchema(HoursQuerySchema):
    by = fields.String(load_default="volunteer", validate=validate.OneOf(HOURS_GROUPS))


class RankingQuerySchema(PeriodQuerySchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class HoursEntrySchema(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    estate_id = fields.String(allow_none=True)
    hours = fields.Float()
    minutes = fields.Integer()
    reason = fields.String()
    source = fields.String()
    source_id = fields.String()
    corrects_entry_id = fields.String(allow_none=True)
    served_at = Timestamp()
    created_at = Timestamp()


class HoursTotalSchema(Schema):
    key = fields.String()
    name = fields.String(allow_none=True)
    hours = fields.Float()
    minutes = fields.Integer()
    entries = fields.Integer()


class RankingRowSchema(Schema):
    rank = fields.Integer()
    volunteer_id = fields.String()
    name = fields.String()
    party_member = fields.Boolean()
    hours = fields.Float()


# --- activities -----------------------------------------------------------------------------


class ShiftCreateSchema(StrictSchema):
    name = Text(50, required=True, metadata={"example": "量血压"})
    skills = _skills(load_default=list)
    needed = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    starts_at = Timestamp(load_default=None, metadata={"description": "default: the activity's start"})
    ends_at = Timestamp(load_default=None, metadata={"description": "default: the activity's end"})


class ActivityCreateSchema(StrictSchema):
    title = Text(100, required=True, metadata={"example": "社区义诊"})
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    description = Text(2000, load_default=None)
    estate_ids = _estates(required=True)
    place = Text(100, required=True, metadata={"example": "社区党群服务中心"})
    starts_at = Timestamp(required=True)
    ends_at = Timestamp(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10000))
    shifts = fields.List(fields.Nested(ShiftCreateSchema), load_default=list, validate=validate.Length(max=20))
    publish = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _times(self, data: dict, **kwargs: Any) -> None:
        if data.get("starts_at") and data.get("ends_at") and data["starts_at"] >= data["ends_at"]:
            raise ValidationError("结束时间必须晚于开始时间 (ends_at must be after starts_at)", "ends_at")


class SeriesShiftSchema(StrictSchema):
    name = Text(50, required=True)
    skills = _skills(load_default=list)
    needed = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))


class SeriesCreateSchema(StrictSchema):
    """Weekly on ``weekday``, or monthly on the ``week_of_month``-th ``weekday``; local times."""

    title = Text(100, required=True, metadata={"example": "义务理发"})
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    description = Text(2000, load_default=None)
    estate_ids = _estates(required=True)
    place = Text(100, required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10000))
    frequency = fields.String(required=True, validate=validate.OneOf(("weekly", "monthly")))
    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=6))
    week_of_month = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=4))
    start = _clock(required=True)
    end = _clock(required=True)
    starts_on = fields.Date(required=True)
    until = fields.Date(load_default=None)
    themes = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="键应为 YYYY-MM (key YYYY-MM)")),
        values=Text(50),
        load_default=dict,
        metadata={"description": 'monthly theme by month, e.g. {"2026-12": "冬季防火"}'},
    )
    shifts = fields.List(fields.Nested(SeriesShiftSchema), load_default=list, validate=validate.Length(max=20))

    @validates_schema(skip_on_field_errors=False)
    def _rule(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            errors["end"] = ["开始时间必须早于结束时间 (start must be before end)"]
        if data.get("frequency") == "monthly" and data.get("week_of_month") is None:
            errors["week_of_month"] = ["每月活动需要指定第几周 (monthly needs week_of_month 1–4)"]
        if data.get("until") and data.get("starts_on") and data["until"] < data["starts_on"]:
            errors["until"] = ["结束日期不能早于开始日期 (until must not be before starts_on)"]
        if errors:
            raise ValidationError(errors)


class SeriesSchema(Schema):
    id = fields.String()
    title = fields.String()
    kind = fields.String()
    estate_ids = fields.List(fields.String())
    place = fields.String()
    capacity = fields.Integer()
    frequency = fields.String()
    weekday = fields.Integer()
    week_of_month = fields.Integer(allow_none=True)
    start_time = fields.String()
    end_time = fields.String()
    starts_on = fields.Date()
    until = fields.Date(allow_none=True)
    themes = fields.Dict()
    generated_until = fields.Date()


class ActivityCancelSchema(StrictSchema):
    reason = Text(500, required=True)


class ResidentSignupCreateSchema(StrictSchema):
    name = Text(50, required=True)
    phone = MobilePhone(required=True, metadata={"example": "13912345678"})
    household = Text(50, required=True, metadata={"example": "3-2-501"})


class ShiftSignupCreateSchema(StrictSchema):
    volunteer_id = _id(required=True)


class AttendanceLineSchema(StrictSchema):
    signup_id = _id(required=True)
    attended = fields.Boolean(required=True)


class AttendanceSchema(StrictSchema):
    residents = fields.List(fields.Nested(AttendanceLineSchema), load_default=list, validate=validate.Length(max=2000))
    volunteers = fields.List(fields.Nested(AttendanceLineSchema), load_default=list, validate=validate.Length(max=500))


class ShiftSignupLineSchema(Schema):
    id = fields.String()
    volunteer_id = fields.String()
    attended = fields.Boolean(allow_none=True)


class ShiftSchema(Schema):
    id = fields.String()
    name = fields.String()
    skills = fields.List(fields.String())
    needed = fields.Integer()
    starts_at = Timestamp()
    ends_at = Timestamp()
    volunteer_ids = fields.List(fields.String())
    signups = fields.List(
        fields.Nested(ShiftSignupLineSchema),
        metadata={"description": "the live sign-ups, for recording attendance (attended null until recorded)"},
    )


class ActivitySchema(Schema):
    id = fields.String()
    series_id = fields.String(allow_none=True)
    title = fields.String()
    kind = fields.String()
    description = fields.String(allow_none=True)
    estate_ids = fields.List(fields.String())
    place = fields.String()
    starts_at = Timestamp()
    ends_at = Timestamp()
    capacity = fields.Integer()
    status = fields.String()
    cancel_reason = fields.String(allow_none=True)
    confirmed = fields.Integer()
    waiting = fields.Integer()
    shifts = fields.List(fields.Nested(ShiftSchema))


class ResidentSignupSchema(Schema):
    id = fields.String()
    activity_id = fields.String()
    household = fields.String()
    name = fields.String()
    phone = fields.String()
    status = fields.String()
    position = fields.Integer()
    attended = fields.Boolean(allow_none=True)
    created_at = Timestamp()


class ShiftSignupSchema(Schema):
    id = fields.String()
    activity_id = fields.String()
    shift_id = fields.String()
    volunteer_id = fields.String()
    status = fields.String()
    attended = fields.Boolean(allow_none=True)


class ScheduleItemSchema(Schema):
    kind = fields.String(metadata={"description": "visit or shift"})
    id = fields.String()
    title = fields.String()
    estate_ids = fields.List(fields.String())
    place = fields.String(allow_none=True, metadata={"description": "for a visit: the resident's household"})
    starts_at = Timestamp(allow_none=True)
    ends_at = Timestamp(allow_none=True)
    status = fields.String()


class CalendarQuerySchema(StrictSchema):
    """The estate id travels in here too, so an over-long id is refused like any bad input."""

    estate_id = _id(required=True)
    week_of = fields.Date(load_default=None, metadata={"description": "any date of the week; default this week"})


class CalendarDaySchema(Schema):
    date = fields.Date()
    activities = fields.List(fields.Nested(ActivitySchema))


class CalendarSchema(Schema):
    estate_id = fields.String()
    week_start = fields.Date()
    week_end = fields.Date()
    days = fields.List(fields.Nested(CalendarDaySchema))


class ActivityPublishedEventSchema(Schema):
    activity_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    estate_ids = fields.List(fields.String(), required=True)
    place = fields.String(required=True)
    starts_at = fields.String(required=True)
    ends_at = fields.String(required=True)
    capacity = fields.Integer(required=True)


class RecipientSchema(Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    household = fields.String(allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(("resident", "volunteer")))


class ActivityCancelledEventSchema(Schema):
    activity_id = fields.String(required=True)
    title = fields.String(required=True)
    estate_ids = fields.List(fields.String(), required=True)
    starts_at = fields.String(required=True)
    reason = fields.String(required=True)
    recipients = fields.List(fields.Nested(RecipientSchema), required=True)
