"""What the requests service accepts and returns, and the payload of its events."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common.errors import ValidationFailed
from services.common.fields import MobilePhone, Text, Timestamp
from services.common.pages import PageQuerySchema
from services.common.statistics import GroupedQuerySchema
from services.requests.lifecycle import STATES, USER_ACTIONS

#: The categories every tenant starts with (a tenant may add its own codes).
CATEGORIES = (
    "repair",
    "facilities",
    "sanitation",
    "safety",
    "noise",
    "parking",
    "complaint",
    "suggestion",
    "consultation",
    "emergency",
)
CATEGORY_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$", error="类别代码为小写字母、数字和下划线 (a category code)")
ASSIGNEE_KINDS = ("staff", "team", "volunteer")
CHANNELS = ("phone", "wechat", "walk_in", "app", "resident_page")  # resident_page: the estate's QR code
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


HOUSEHOLD = validate.Regexp(
    r"^\d{1,3}-\d{1,2}-\d{2,5}$", error="门牌应为 楼-单元-房号, 如 3-2-501 (building-unit-room)"
)


class ReporterSchema(StrictSchema):
    name = Text(50, required=True)
    phone = MobilePhone(required=True, metadata={"example": "13800138000"})
    household = fields.String(required=True, validate=HOUSEHOLD, metadata={"example": "3-2-501"})


class CaseCreateSchema(StrictSchema):
    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    category = fields.String(
        required=True,
        validate=CATEGORY_CODE,
        metadata={"description": "a category code of the tenant (defaults: " + ", ".join(CATEGORIES) + ")"},
    )
    title = Text(100, required=True)
    description = Text(2000, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    reporter = fields.Nested(ReporterSchema, required=True)
    household_confirmed = fields.Boolean(
        load_default=None,
        metadata={
            "description": "the resident pages' word: false when the community's register does not (yet) confirm "
            "the reporter in this household, which the case's history then says; leave out otherwise"
        },
    )


def load_case(payload: object, category_codes: set[str]) -> dict:
    """A new case's body, checked field by field; its category must be one of the tenant's."""
    if not isinstance(payload, dict):
        raise ValidationFailed("body must be a JSON object", {"_schema": ["must be an object"]})
    errors: dict = {}
    data: dict = {}
    try:
        data = CaseCreateSchema().load(payload)
    except ValidationError as exc:
        errors = exc.normalized_messages()
    category = payload.get("category")
    if "category" not in errors and isinstance(category, str) and category not in category_codes:
        errors["category"] = ["没有这个类别 (not one of: " + ", ".join(sorted(category_codes)) + ")"]
    if errors:
        raise ValidationFailed("invalid input", errors)
    return data


class TransitionSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(USER_ACTIONS))
    note = Text(1000, load_default=None, metadata={"description": "the reason: required to reopen, hand back, "
                                                   "reassign or wait on the resident"})  # fmt: skip
    assignee = Text(100, load_default=None, metadata={"description": "staff member, team (义务维修队) or volunteer"})
    assignee_kind = fields.String(load_default=None, validate=validate.OneOf(ASSIGNEE_KINDS))
    source = fields.String(
        load_default=None,
        validate=validate.OneOf(("resident", "staff")),
        metadata={"description": "who asked for it (kept in the history): the resident, or staff; default api"},
    )
    if_updated_at = Timestamp(
        load_default=None,
        metadata={"description": "the case's updated_at as last read: 409 and nothing changed if it moved since"},
    )


class CaseEditSchema(StrictSchema):
    title = Text(100)
    description = Text(2000)
    category = fields.String(validate=CATEGORY_CODE)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))

    @validates_schema
    def not_empty(self, data: dict, **kwargs: object) -> None:
        if not data:
            raise ValidationError("nothing to change", "_schema")


class CaseListQuerySchema(PageQuerySchema):
    """Filters of the case list; every filter narrows (AND)."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(STATES))
    estate_id = fields.String(load_default=None, validate=validate.Length(max=64))
    category = fields.String(load_default=None, validate=CATEGORY_CODE)
    assignee = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    priority = fields.String(load_default=None, validate=validate.OneOf(PRIORITIES))
    reporter_phone = MobilePhone(load_default=None, metadata={"description": "the reporter's mainland mobile"})
    overdue = fields.Boolean(load_default=None, metadata={"description": "only cases past a due time that matters"})
    escalated = fields.Boolean(load_default=None, metadata={"description": "only cases escalated to the party branch"})
    open = fields.Boolean(
        load_default=None,
        metadata={
            "description": "only cases still being handled (not resolved, closed, merged or cancelled: "
            "what may merge into an incident)"
        },
    )
    created_from = Timestamp(load_default=None)
    created_to = Timestamp(load_default=None)
    closed_from = Timestamp(load_default=None)
    closed_to = Timestamp(load_default=None)
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "free text in title or description"},
    )

    @validates_schema
    def ranges_are_ordered(self, data: dict, **kwargs: object) -> None:
        for start, end in (("created_from", "created_to"), ("closed_from", "closed_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                raise ValidationError(f"must not be before {start}", end)


class CaseCountQuerySchema(CaseListQuerySchema):
    """The same filters as the list, without paging: the dashboard's counts per status."""

    class Meta:
        unknown = RAISE
        exclude = ("limit", "starting_after", "status")


class CaseCountsSchema(Schema):
    total = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    capped = fields.Boolean(
        metadata={"description": "a search (q) counted only its newest 1,000 matches: more cases match"}
    )


class CaseStatisticsQuerySchema(GroupedQuerySchema):
    """Which groups, over which months (of creation, Asia/Shanghai), of which estate."""


class CaseStatisticsRowSchema(Schema):
    """One group's case figures; keys absent from ``group_by`` are null (so is an unassigned group's assignee)."""

    estate_id = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    month = fields.String(allow_none=True, metadata={"description": "YYYY-MM of creation, Asia/Shanghai"})
    cases = fields.Integer(metadata={"description": "cases created"})
    resolved = fields.Integer(metadata={"description": "of them, resolved at least once"})
    on_time = fields.Integer(metadata={"description": "resolved no later than the resolution due time"})
    reopened = fields.Integer(metadata={"description": "resolved and reopened at least once"})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "on_time / resolved, 0–1"})
    reopen_rate = fields.Float(allow_none=True, metadata={"description": "reopened / resolved, 0–1"})


class HistoryEntrySchema(Schema):
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    source = fields.String()
    note = fields.String(allow_none=True)
    at = Timestamp()


class EscalationSchema(Schema):
    level = fields.Integer()
    reason = fields.String()
    actor = fields.String()
    at = Timestamp()


class ReporterOutSchema(Schema):
    name = fields.String()
    phone = fields.String()
    household = fields.String()


class AllowedActionSchema(Schema):
    action = fields.String(metadata={"example": "reassign"})
    needs_note = fields.Boolean(metadata={"description": "a note (the reason) is required"})
    needs_assignee = fields.Boolean(
        metadata={"description": "an assignee is required (assign, reassign; start without one)"}
    )


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
    assignee_kind = fields.String(allow_none=True)
    incident_id = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rating_verified = fields.Boolean(
        metadata={"description": "the rating came from a resident the community confirmed in the household"}
    )
    reopen_count = fields.Integer()
    escalation_level = fields.Integer()
    reporter = fields.Nested(ReporterOutSchema)
    created_at = Timestamp()
    updated_at = Timestamp()
    resolved_at = Timestamp(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    response_due_at = Timestamp(allow_none=True)
    resolution_due_at = Timestamp(allow_none=True)
    response_breached_at = Timestamp(allow_none=True)
    resolution_breached_at = Timestamp(allow_none=True)
    sla_paused = fields.Boolean()
    overdue = fields.Boolean()
    allowed_actions = fields.List(fields.String(), metadata={"description": "the transitions allowed now"})
    allowed_actions_detail = fields.List(
        fields.Nested(AllowedActionSchema),
        metadata={"description": "the same actions, each with whether it needs a note and an assignee"},
    )
    sla_stage = fields.String(
        allow_none=True,
        metadata={"description": "the SLA clock running now: response, resolution, or null (paused or done)"},
    )
    sla_due_at = Timestamp(allow_none=True, metadata={"description": "when the running clock runs out"})
    history = fields.List(fields.Nested(HistoryEntrySchema))
    escalations = fields.List(fields.Nested(EscalationSchema))
    photo_count = fields.Integer(metadata={"description": "photos of the case (at most 3), published or not"})


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
    assignee_kind = fields.String(allow_none=True)
    incident_id = fields.String(allow_none=True, metadata={"description": "set when merged into an incident"})
    escalation_level = fields.Integer()
    changed_at = Timestamp(
        metadata={"description": "when this change happened (case.reopened: the time surveys judge answers by)"}
    )


# --- photos -----------------------------------------------------------------------------------

#: A case has at most this many photos, however they came (with the case or attached later).
MAX_PHOTOS = 3
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


class PhotoRecordSchema(StrictSchema):
    """A photo the gateway has cleaned and stored (services/gateway/uploads.py): its record."""

    storage_key = fields.String(required=True, validate=validate.Length(min=1, max=300))
    content_type = fields.String(required=True, validate=validate.OneOf(PHOTO_TYPES))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    width = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    height = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class PhotoListSchema(StrictSchema):
    photos = fields.List(
        fields.Nested(PhotoRecordSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_PHOTOS, error="最多 3 张照片 (at most 3 photos)"),
    )


class PhotoSchema(Schema):
    """A case's photo as staff see it (never its storage key)."""

    id = fields.String()
    case_id = fields.String()
    content_type = fields.String(metadata={"example": "image/jpeg"})
    size = fields.Integer(metadata={"description": "bytes, as kept (re-encoded, metadata removed)"})
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    created_at = Timestamp()
    published = fields.Boolean(metadata={"description": "shown on the estate's public board"})
    published_at = Timestamp(allow_none=True)
    url = fields.String(metadata={"description": "the image itself, for staff"})
    public_url = fields.String(allow_none=True, metadata={"description": "the public address, once published"})


# --- categories -------------------------------------------------------------------------------


class SlaHoursSchema(StrictSchema):
    response_hours = fields.Float(required=True, validate=validate.Range(min=0.1, max=720))
    resolution_hours = fields.Float(required=True, validate=validate.Range(min=0.1, max=8760))

    @validates_schema
    def resolve_after_response(self, data: dict, **kwargs: object) -> None:
        if data.get("response_hours", 0) > data.get("resolution_hours", 0):
            raise ValidationError("must not be shorter than response_hours", "resolution_hours")


class CategoryConfigSchema(StrictSchema):
    code = fields.String(required=True, validate=CATEGORY_CODE, metadata={"example": "elevator"})
    name = Text(50, required=True, metadata={"example": "水电维修"})
    active = fields.Boolean(load_default=True)
    team = Text(100, load_default=None, metadata={"description": "auto-assign new cases to this team, e.g. 义务维修队"})
    sla = fields.Dict(
        keys=fields.String(validate=validate.OneOf(PRIORITIES)),
        values=fields.Nested(SlaHoursSchema),
        load_default=dict,
        metadata={"description": "per priority (low, normal, high, urgent); priorities left out keep theirs"},
    )


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    active = fields.Boolean()
    team = fields.String(allow_none=True)
    custom = fields.Boolean(metadata={"description": "false: the platform default"})
    sla = fields.Dict(keys=fields.String(), values=fields.Nested(SlaHoursSchema))


# --- audit, comments --------------------------------------------------------------------------


class ChangeSchema(Schema):
    field = fields.String()
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)
    actor = fields.String()
    source = fields.String()
    at = fields.String()


class CommentCreateSchema(StrictSchema):
    body = Text(2000, required=True)
    author_role = fields.String(load_default="staff", validate=validate.OneOf(("resident", "staff")))
    visibility = fields.String(load_default="public", validate=validate.OneOf(("public", "internal")))


class InstructionCreateSchema(StrictSchema):
    body = Text(2000, required=True, metadata={"example": "请三日内上门处理并回复业主"})


class CommentQuerySchema(StrictSchema):
    visibility = fields.String(load_default=None, validate=validate.OneOf(("public", "internal")))


class CommentSchema(Schema):
    id = fields.String()
    case_id = fields.String()
    kind = fields.String(metadata={"description": "comment, or a supervisor's instruction"})
    author = fields.String()
    author_role = fields.String()
    visibility = fields.String()
    body = fields.String()
    created_at = Timestamp()


# --- incidents --------------------------------------------------------------------------------

INCIDENT_KINDS = ("water_outage", "power_outage", "gas_outage", "elevator", "flooding", "fire", "other")


class IncidentCreateSchema(StrictSchema):
    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(INCIDENT_KINDS))
    title = Text(100, required=True, metadata={"example": "3号楼停水"})
    description = Text(2000, required=True)
    severity = fields.String(load_default="normal", validate=validate.OneOf(("critical", "normal")))
    expected_end = Timestamp(load_default=None)


class IncidentUpdateCreateSchema(StrictSchema):
    body = Text(2000, required=True, metadata={"example": "送水车已到3号楼门口"})
    expected_end = Timestamp(load_default=None)


class IncidentMergeSchema(StrictSchema):
    case_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), required=True, validate=validate.Length(min=1, max=200)
    )


class IncidentResolveSchema(StrictSchema):
    resolution = Text(2000, required=True, metadata={"example": "管道已修复，恢复供水"})


class IncidentListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    estate_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(("declared", "resolved")))


class IncidentUpdateSchema(Schema):
    body = fields.String()
    expected_end = Timestamp(allow_none=True)
    actor = fields.String()
    at = Timestamp()


class IncidentSchema(Schema):
    id = fields.String()
    estate_id = fields.String()
    kind = fields.String()
    title = fields.String()
    description = fields.String()
    severity = fields.String()
    expected_end = Timestamp(allow_none=True)
    status = fields.String()
    resolution = fields.String(allow_none=True)
    declared_by = fields.String()
    declared_at = Timestamp()
    resolved_at = Timestamp(allow_none=True)
    case_ids = fields.List(fields.String())
    updates = fields.List(fields.Nested(IncidentUpdateSchema))


# --- proposals --------------------------------------------------------------------------------

CHOICES = ("support", "oppose", "abstain")


class ProposalCreateSchema(StrictSchema):
    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = Text(100, required=True, metadata={"example": "在地下车库安装电动车充电桩"})
    description = Text(4000, required=True)
    closes_at = Timestamp(required=True, metadata={"description": "end of the voting window (1 hour to 90 days ahead)"})


class VoteCreateSchema(StrictSchema):
    household = fields.String(required=True, validate=HOUSEHOLD, metadata={"example": "3-2-501"})
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))


class ProposalListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    estate_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "closed")))


class TallySchema(Schema):
    support = fields.Integer()
    oppose = fields.Integer()
    abstain = fields.Integer()


class ProposalSchema(Schema):
    id = fields.String()
    estate_id = fields.String()
    title = fields.String()
    description = fields.String()
    proposer = fields.String()
    opens_at = Timestamp()
    closes_at = Timestamp()
    status = fields.String()
    tally = fields.Nested(TallySchema, metadata={"description": "counted so far; final once closed"})
    outcome = fields.String(allow_none=True, metadata={"description": "passed, rejected or no_votes once closed"})
    closed_at = Timestamp(allow_none=True)


class VoteSchema(Schema):
    proposal_id = fields.String()
    household = fields.String()
    choice = fields.String()
    at = Timestamp()


# --- the public board -------------------------------------------------------------------------


class BoardQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE


class BoardPhotoSchema(Schema):
    id = fields.String()
    url = fields.String(metadata={"example": "/p/0193a8e2-7c4d-7000-8000-000000000001"})


class BoardEntrySchema(Schema):
    """A resolved case as the estate sees it: never a name or phone; the household as building only."""

    case_id = fields.String()
    category = fields.String()
    category_name = fields.String()
    title = fields.String()
    building = fields.String(metadata={"example": "3号楼"})
    status = fields.String()
    submitted_at = Timestamp()
    resolved_at = Timestamp(allow_none=True)
    hours_to_resolve = fields.Float(allow_none=True)
    resolution = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    photos = fields.List(fields.Nested(BoardPhotoSchema), metadata={"description": "the case's published photos only"})


class BoardSchema(Schema):
    estate_id = fields.String()
    estate_name = fields.String()
    data = fields.List(fields.Nested(BoardEntrySchema))
    has_more = fields.Boolean()
