"""Volunteers, teams, follow-up visits, service hours, activities and the estate calendar.

All JSON routes are tenant scoped (another tenant's id is a 404). The estate calendar also
has a public HTML page under ``/p/`` that needs no key and never shows a resident.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import NotFound, ValidationFailed
from services.gateway.apidoc import Param, Route, path_id
from services.gateway.calendar_page import calendar_page
from services.gateway.http import endpoint, json_response, read_json
from services.gateway.plumbing import Plumbing, html
from services.volunteers.schemas import (
    ActivityCancelSchema,
    ActivityCreateSchema,
    ActivitySchema,
    AttendanceSchema,
    CalendarSchema,
    HoursCorrectionSchema,
    HoursEntrySchema,
    HoursTotalSchema,
    RankingRowSchema,
    ResidentSignupCreateSchema,
    ResidentSignupSchema,
    ScheduleItemSchema,
    SeriesCreateSchema,
    SeriesSchema,
    ShiftSignupCreateSchema,
    ShiftSignupSchema,
    TeamCreateSchema,
    TeamMemberSchema,
    TeamSchema,
    TeamUpdateSchema,
    VisitCompleteSchema,
    VisitDeclineSchema,
    VisitSchema,
    VolunteerCreateSchema,
    VolunteerSchema,
    VolunteerUpdateSchema,
)


def listing(data: object) -> Response:
    return json_response({"data": data, "has_more": False})


def check_estates(estates: list[dict], payload: dict) -> None:
    """422 unless every estate of ``payload`` is one of ``estates`` (the tenant's own): the API and
    the workbench refuse another company's estate alike."""
    own = {estate["id"] for estate in estates}
    unknown = [e for e in payload.get("estate_ids") or [] if isinstance(e, str) and e not in own]
    if unknown:
        said = [f"没有这个小区 (no such estate): {e}" for e in unknown]
        raise ValidationFailed("unknown estate", {"estate_ids": said})


class VolunteerRoutes(Plumbing):
    # --- registry -------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/volunteers")
    def register_volunteer(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_estates(tenant, payload)
        return json_response(self._call("volunteers", "register_volunteer", tenant, payload), 201)

    def _check_estates(self, tenant: str, payload: object) -> None:
        """Volunteers and activities may only concern the tenant's own estates."""
        if not isinstance(payload, dict) or not isinstance(payload.get("estate_ids"), list):
            return  # the volunteers service reports the shape error
        check_estates(self._call("requests", "list_estates", tenant), payload)

    @endpoint("GET", "/api/v1/volunteers")
    def list_volunteers(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "list_volunteers", tenant))

    @endpoint("GET", "/api/v1/volunteers/<string:volunteer_id>")
    def get_volunteer(self, request: Request, volunteer_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "get_volunteer", tenant, volunteer_id))

    @endpoint("PATCH", "/api/v1/volunteers/<string:volunteer_id>")
    def update_volunteer(self, request: Request, volunteer_id: str) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_estates(tenant, payload)
        return json_response(self._call("volunteers", "update_volunteer", tenant, volunteer_id, payload))

    @endpoint("GET", "/api/v1/volunteers/<string:volunteer_id>/schedule")
    def volunteer_schedule(self, request: Request, volunteer_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "volunteer_schedule", tenant, volunteer_id))

    # --- teams ----------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/teams")
    def create_team(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "create_team", tenant, read_json(request)), 201)

    @endpoint("GET", "/api/v1/teams")
    def list_teams(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "list_teams", tenant))

    @endpoint("GET", "/api/v1/teams/<string:team_id>")
    def get_team(self, request: Request, team_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "get_team", tenant, team_id))

    @endpoint("PATCH", "/api/v1/teams/<string:team_id>")
    def update_team(self, request: Request, team_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "update_team", tenant, team_id, read_json(request)))

    @endpoint("POST", "/api/v1/teams/<string:team_id>/members")
    def add_team_member(self, request: Request, team_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "add_team_member", tenant, team_id, read_json(request)))

    @endpoint("DELETE", "/api/v1/teams/<string:team_id>/members/<string:volunteer_id>")
    def remove_team_member(self, request: Request, team_id: str, volunteer_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "remove_team_member", tenant, team_id, volunteer_id))

    # --- visits ---------------------------------------------------------------------------

    @endpoint("POST", "/api/v1/visits/<string:visit_id>/complete")
    def complete_visit(self, request: Request, visit_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "complete_visit", tenant, visit_id, read_json(request)))

    @endpoint("POST", "/api/v1/visits/<string:visit_id>/decline")
    def decline_visit(self, request: Request, visit_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "decline_visit", tenant, visit_id, read_json(request)))

    # --- service hours --------------------------------------------------------------------

    @endpoint("GET", "/api/v1/hours")
    def hours_ledger(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "hours_ledger", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/hours/totals")
    def hours_totals(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "hours_totals", tenant, request.args.to_dict()))

    @endpoint("GET", "/api/v1/hours/ranking")
    def hours_ranking(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "hours_ranking", tenant, request.args.to_dict()))

    @endpoint("POST", "/api/v1/hours/corrections")
    def correct_hours(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "correct_hours", tenant, read_json(request)), 201)

    # --- activities -----------------------------------------------------------------------

    @endpoint("POST", "/api/v1/activities")
    def create_activity(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_estates(tenant, payload)
        return json_response(self._call("volunteers", "create_activity", tenant, payload), 201)

    @endpoint("GET", "/api/v1/activities")
    def list_activities(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "list_activities", tenant))

    @endpoint("POST", "/api/v1/activity-series")
    def create_series(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_estates(tenant, payload)
        return json_response(self._call("volunteers", "create_series", tenant, payload), 201)

    @endpoint("GET", "/api/v1/activities/<string:activity_id>")
    def get_activity(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "get_activity", tenant, activity_id))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/publish")
    def publish_activity(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "publish_activity", tenant, activity_id))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/cancel")
    def cancel_activity(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "cancel_activity", tenant, activity_id, read_json(request)))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/signups")
    def sign_up_resident(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        return json_response(self._call("volunteers", "sign_up_resident", tenant, activity_id, payload), 201)

    @endpoint("GET", "/api/v1/activities/<string:activity_id>/signups")
    def resident_signups(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return listing(self._call("volunteers", "resident_signups", tenant, activity_id))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/signups/<string:signup_id>/cancel")
    def cancel_resident_signup(self, request: Request, activity_id: str, signup_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "cancel_resident_signup", tenant, activity_id, signup_id))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/shifts/<string:shift_id>/signups")
    def sign_up_volunteer(self, request: Request, activity_id: str, shift_id: str) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        return json_response(self._call("volunteers", "sign_up_volunteer", tenant, activity_id, shift_id, payload), 201)

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/shift-signups/<string:signup_id>/cancel")
    def cancel_shift_signup(self, request: Request, activity_id: str, signup_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "cancel_shift_signup", tenant, activity_id, signup_id))

    @endpoint("POST", "/api/v1/activities/<string:activity_id>/attendance")
    def record_attendance(self, request: Request, activity_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("volunteers", "record_attendance", tenant, activity_id, read_json(request)))

    # --- calendar -------------------------------------------------------------------------

    @endpoint("GET", "/api/v1/estates/<string:estate_id>/calendar")
    def estate_calendar(self, request: Request, estate_id: str) -> Response:
        tenant, _ = self._tenant(request)
        if estate_id not in {estate["id"] for estate in self._call("requests", "list_estates", tenant)}:
            raise NotFound(f"estate {estate_id} not found")
        return json_response(self._call("volunteers", "estate_calendar", tenant, estate_id, request.args.to_dict()))

    @endpoint("GET", "/p/estates/<string:estate_id>/calendar")
    def public_calendar(self, request: Request, estate_id: str) -> Response:
        try:
            week = self._call("volunteers", "estate_calendar", None, estate_id, request.args.to_dict())
        except ValidationFailed:
            return html(calendar_page(None, invalid=True), 422)
        return html(calendar_page(week))


VOLUNTEER = path_id("volunteer_id")
TEAM = path_id("team_id")
ACTIVITY = path_id("activity_id")
HOURS_QUERY = (
    Param("volunteer_id", "query", "only this volunteer"),
    Param("year", "query", "Asia/Shanghai calendar year", schema={"type": "integer", "minimum": 2000}),
    Param("month", "query", "1–12 (needs year)", schema={"type": "integer", "minimum": 1, "maximum": 12}),
)
WEEK_OF = Param("week_of", "query", "any date (YYYY-MM-DD) of the week; default this week", schema={"type": "string"})


def _route(*args: object, tag: str = "volunteers", **kwargs: object) -> Route:
    """A documented route of this module (tagged volunteers unless said otherwise)."""
    return Route(*args, tag=tag, **kwargs)  # type: ignore[arg-type]


ROUTES: tuple[Route, ...] = (
    _route(
        "POST",
        "/api/v1/volunteers",
        "Register a volunteer (skills: see VolunteerCreate)",
        VolunteerSchema,
        201,
        VolunteerCreateSchema,
        errors=(409, 422),
    ),
    _route("GET", "/api/v1/volunteers", "List volunteers", VolunteerSchema, many=True),
    _route(
        "GET", "/api/v1/volunteers/{volunteer_id}", "One volunteer", VolunteerSchema, params=(VOLUNTEER,), errors=(404,)
    ),
    _route(
        "PATCH",
        "/api/v1/volunteers/{volunteer_id}",
        "Change a volunteer: availability, skills, estates; active=false pauses",
        VolunteerSchema,
        200,
        VolunteerUpdateSchema,
        params=(VOLUNTEER,),
        errors=(404, 409, 422),
    ),
    _route(
        "GET",
        "/api/v1/volunteers/{volunteer_id}/schedule",
        "The volunteer's open visits and coming shifts",
        ScheduleItemSchema,
        many=True,
        params=(VOLUNTEER,),
        errors=(404,),
    ),
    _route(
        "POST",
        "/api/v1/teams",
        "Create a team (the leader must be a member)",
        TeamSchema,
        201,
        TeamCreateSchema,
        errors=(409, 422),
    ),
    _route("GET", "/api/v1/teams", "List teams", TeamSchema, many=True),
    _route("GET", "/api/v1/teams/{team_id}", "One team", TeamSchema, params=(TEAM,), errors=(404,)),
    _route(
        "PATCH",
        "/api/v1/teams/{team_id}",
        "Rename a team or name another leader (a member)",
        TeamSchema,
        200,
        TeamUpdateSchema,
        params=(TEAM,),
        errors=(404, 409, 422),
    ),
    _route(
        "POST",
        "/api/v1/teams/{team_id}/members",
        "Add a member",
        TeamSchema,
        200,
        TeamMemberSchema,
        params=(TEAM,),
        errors=(404, 422),
    ),
    _route(
        "DELETE",
        "/api/v1/teams/{team_id}/members/{volunteer_id}",
        "Remove a member (not the leader)",
        TeamSchema,
        params=(TEAM, VOLUNTEER),
        errors=(404, 409),
    ),
    _route(
        "POST",
        "/api/v1/visits/{visit_id}/complete",
        "Record a visit's outcome (credits the volunteer's hours)",
        VisitSchema,
        200,
        VisitCompleteSchema,
        params=(path_id("visit_id"),),
        errors=(404, 409, 422),
    ),
    _route(
        "POST",
        "/api/v1/visits/{visit_id}/decline",
        "The assigned volunteer declines; the visit is reassigned",
        VisitSchema,
        200,
        VisitDeclineSchema,
        params=(path_id("visit_id"),),
        errors=(404, 409, 422),
    ),
    _route(
        "GET",
        "/api/v1/hours",
        "The service-hours ledger (append-only)",
        HoursEntrySchema,
        many=True,
        params=HOURS_QUERY,
        errors=(404, 422),
    ),
    _route(
        "GET",
        "/api/v1/hours/totals",
        "Hours totals by volunteer, team, estate, month or year",
        HoursTotalSchema,
        many=True,
        params=(
            *HOURS_QUERY,
            Param(
                "by",
                "query",
                "volunteer (default), team, estate, month or year",
                schema={"type": "string", "enum": ["volunteer", "team", "estate", "month", "year"]},
            ),
        ),
        errors=(422,),
    ),
    _route(
        "GET",
        "/api/v1/hours/ranking",
        "Publishable ranking by hours (names, no phones)",
        RankingRowSchema,
        many=True,
        params=(
            *HOURS_QUERY[1:],
            Param("limit", "query", "1–100, default 20", schema={"type": "integer", "minimum": 1, "maximum": 100}),
        ),
        errors=(422,),
    ),
    _route(
        "POST",
        "/api/v1/hours/corrections",
        "Correct a ledger line with a new line",
        HoursEntrySchema,
        201,
        HoursCorrectionSchema,
        errors=(404, 422),
    ),
    _route(
        "POST",
        "/api/v1/activities",
        "Create an activity (publish=true announces it)",
        ActivitySchema,
        201,
        ActivityCreateSchema,
        errors=(422,),
        tag="activities",
    ),
    _route("GET", "/api/v1/activities", "List activities", ActivitySchema, many=True, tag="activities"),
    _route(
        "POST",
        "/api/v1/activity-series",
        "Create a recurring activity (weekly, or monthly with themes)",
        SeriesSchema,
        201,
        SeriesCreateSchema,
        errors=(422,),
        tag="activities",
    ),
    _route(
        "GET",
        "/api/v1/activities/{activity_id}",
        "One activity with counts and shifts",
        ActivitySchema,
        params=(ACTIVITY,),
        errors=(404,),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/publish",
        "Publish a draft (activity.published)",
        ActivitySchema,
        params=(ACTIVITY,),
        errors=(404, 409),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/cancel",
        "Cancel; everyone signed up is told",
        ActivitySchema,
        200,
        ActivityCancelSchema,
        params=(ACTIVITY,),
        errors=(404, 409, 422),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/signups",
        "Sign a household up (confirmed or waiting)",
        ResidentSignupSchema,
        201,
        ResidentSignupCreateSchema,
        params=(ACTIVITY,),
        errors=(404, 409, 422),
        tag="activities",
    ),
    _route(
        "GET",
        "/api/v1/activities/{activity_id}/signups",
        "Residents signed up, in order",
        ResidentSignupSchema,
        many=True,
        params=(ACTIVITY,),
        errors=(404,),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/signups/{signup_id}/cancel",
        "Cancel a household's sign-up; the first waiting is promoted",
        ResidentSignupSchema,
        params=(ACTIVITY, path_id("signup_id")),
        errors=(404, 409),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/shifts/{shift_id}/signups",
        "Put a volunteer on a shift",
        ShiftSignupSchema,
        201,
        ShiftSignupCreateSchema,
        params=(ACTIVITY, path_id("shift_id")),
        errors=(404, 409, 422),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/shift-signups/{signup_id}/cancel",
        "Take a volunteer off a shift",
        ShiftSignupSchema,
        params=(ACTIVITY, path_id("signup_id")),
        errors=(404, 409),
        tag="activities",
    ),
    _route(
        "POST",
        "/api/v1/activities/{activity_id}/attendance",
        "Record who came (attended shifts credit hours)",
        None,
        200,
        AttendanceSchema,
        params=(ACTIVITY,),
        errors=(404, 409, 422),
        tag="activities",
    ),
    _route(
        "GET",
        "/api/v1/estates/{estate_id}/calendar",
        "The estate's week of activities",
        CalendarSchema,
        params=(path_id("estate_id"), WEEK_OF),
        errors=(404, 422),
        tag="activities",
    ),
    Route(
        "GET",
        "/p/estates/{estate_id}/calendar",
        "Public page: the estate's week of activities (no residents)",
        None,
        params=(path_id("estate_id"), WEEK_OF),
        errors=(422,),
        auth=False,
        content="text/html",
        tag="activities",
    ),
)
