"""The workbench's volunteers, teams and activities: register and edit volunteers, form teams,
create activities (one date, or every week), publish or cancel them, put volunteers on shifts
and record who came, which credits the volunteers' service hours.

Every page calls the same RPCs as ``/api/v1/volunteers``, ``/teams``, ``/activities`` and
``/activity-series`` with the membership's company as the tenant, so another company's
volunteer, team or activity is the 404 page as over the API. Company staff only (a supervisor
gets the 403 page). Every form carries the session's CSRF token; bad input is a 422 with what
was typed and a message per field; a change the service refuses now (publishing twice,
attendance before the start) is a 409 saying why, nothing changed. The volunteers service keeps
no author for these records (its API takes none), so none is sent.
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.gateway import staff
from services.gateway.apidoc import Route, page_id
from services.gateway.http import Answered, endpoint
from services.gateway.people import see_other
from services.gateway.routes.volunteers import check_estates
from services.gateway.routes.workbench import MAX_ID, WorkbenchRoutes, _page
from services.gateway.sessions import SignedIn
from services.gateway.workbench import field_errors, workbench_page
from services.gateway.workbench_incidents import in_words
from services.gateway.workbench_volunteers import (
    activity_payload,
    attendance_payload,
    has_begun,
    hours_by_volunteer,
    said,
    series_payload,
    split_by_time,
    team_payload,
    team_update_payload,
    volunteer_payload,
)

DONE = {"added": "志愿者已登记", "saved": "已保存", "team": "队伍已建立", "member": "已加入队伍",
        "removed": "已移出队伍", "created": "活动已创建（草稿），发布后住户才能看到并报名",
        "series": "每周活动已创建，近几周的各场已发布", "published": "活动已发布，已通知小区住户",
        "cancelled": "活动已取消，已报名的人会收到通知", "staffed": "已安排志愿者",
        "attendance": "出勤已记录，参加班次的志愿者已计入服务时长"}  # fmt: skip
UNCHOSEN = "Length must be between 1 and 64."  # an id left at 请选择 (a leader, a volunteer)
MISSING = {"volunteer": ("没有找到这位志愿者", "志愿者不存在，或不属于您的公司。"),
           "team": ("没有找到这个队伍", "队伍不存在，或不属于您的公司。"),
           "activity": ("没有找到这个活动", "活动不存在，或不属于您的公司。")}  # fmt: skip


def _form_errors(exc: ValidationFailed) -> dict[str, str]:
    """The service's field errors in words, named as the form's fields (one estate is chosen,
    one shift is typed: its nested messages become one line)."""
    flat = {name: said(value) if name == "shifts" else value for name, value in exc.errors.items()}
    words = in_words(field_errors(flat))
    words |= {name: "请选择" for name, text in words.items() if text.startswith(UNCHOSEN)}
    if "estate_ids" in words:
        words["estate_id"] = words["estate_ids"]
    return words


class WorkbenchVolunteerRoutes(WorkbenchRoutes):
    # --- shared -----------------------------------------------------------------------------

    def _found(self, person: SignedIn, member: staff.Membership, what: str, method: str, some_id: str) -> dict:
        """The company's volunteer, team or activity, or stop with the 404 page (another
        company's is not found either, as over the API)."""
        try:
            if len(some_id) > MAX_ID:
                raise NotFound(some_id[:MAX_ID])
            return self._call("volunteers", method, member.tenant_id, some_id)
        except NotFound:
            heading, text = MISSING[what]
            raise Answered(self._workbench_message(person, member, 404, heading, text)) from None

    def _volunteers_done(self, request: Request) -> str | None:
        return DONE.get(request.args.get("done", ""))

    def _company_estates(self, member: staff.Membership) -> list[dict]:
        return self._call("requests", "list_estates", member.tenant_id)

    def _volunteers(self, member: staff.Membership) -> list[dict]:
        return self._call("volunteers", "list_volunteers", member.tenant_id)

    def _change(self, again: Callable[..., Response], method: str, *args: object, form: str = "") -> Response | None:
        """Call ``volunteers.<method>``: None when done, else the page again with why not
        (422 with the field messages under ``form``, 409 with the service's reason)."""
        try:
            self._call("volunteers", method, *args)
        except ValidationFailed as exc:
            errors = _form_errors(exc)
            return again(422, errors={form: errors} if form else errors)
        except Conflict as exc:
            return again(409, error=f"没有生效：{exc.detail}")
        return None

    # --- volunteers -------------------------------------------------------------------------

    def _volunteers_page(
        self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object
    ) -> Response:
        tenant = member.tenant_id
        totals = self._call("volunteers", "hours_totals", tenant, {"by": "volunteer"})
        teams = {t["id"]: t["name"] for t in self._call("volunteers", "list_teams", tenant)}
        return workbench_page(
            "workbench_volunteers.html", person, member, status, volunteers=self._volunteers(member),
            hours=hours_by_volunteer(totals), team_names=teams, estates=self._company_estates(member),
            typed=shown.pop("typed", {"skills": ["visit"]}), errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/volunteers")
    def workbench_volunteers(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        return self._volunteers_page(person, member, done=self._volunteers_done(request))

    @endpoint("POST", "/workbench/volunteers")
    def workbench_add_volunteer(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        payload = volunteer_payload(request.form)
        typed = request.form.to_dict() | {"estate_ids": request.form.getlist("estate_ids"),
                                          "skills": request.form.getlist("skills")}  # fmt: skip
        try:
            check_estates(self._company_estates(member), payload)
            added = self._call("volunteers", "register_volunteer", member.tenant_id, payload)
        except ValidationFailed as exc:
            return self._volunteers_page(person, member, 422, typed=typed, errors=_form_errors(exc))
        except Conflict as exc:
            return self._volunteers_page(person, member, 409, typed=typed, errors={"phone": f"没有生效：{exc.detail}"})
        return see_other(f"/workbench/volunteers/{added['id']}?done=added")

    def _volunteer_page(
        self, person: SignedIn, member: staff.Membership, volunteer: dict, status: int = 200, **shown: object
    ) -> Response:
        tenant = member.tenant_id
        teams = {t["id"]: t["name"] for t in self._call("volunteers", "list_teams", tenant)}
        ledger = self._call("volunteers", "hours_ledger", tenant, {"volunteer_id": volunteer["id"]})
        typed = shown.pop("typed", None) or volunteer
        return workbench_page(
            "workbench_volunteer.html", person, member, status, volunteer=volunteer, typed=typed,
            team_names=teams, ledger=ledger, estates=self._company_estates(member),
            errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/volunteers/<string:volunteer_id>")
    def workbench_volunteer(self, request: Request, volunteer_id: str) -> Response:
        person, member = self._at_workbench(request)
        volunteer = self._found(person, member, "volunteer", "get_volunteer", volunteer_id)
        return self._volunteer_page(person, member, volunteer, done=self._volunteers_done(request))

    @endpoint("POST", "/workbench/volunteers/<string:volunteer_id>")
    def workbench_edit_volunteer(self, request: Request, volunteer_id: str) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        volunteer = self._found(person, member, "volunteer", "get_volunteer", volunteer_id)
        payload = volunteer_payload(request.form, editing=True)
        typed = request.form.to_dict() | {"estate_ids": request.form.getlist("estate_ids"),
                                          "skills": request.form.getlist("skills"), "active": "active" in request.form,
                                          "party_member": "party_member" in request.form}  # fmt: skip
        try:
            check_estates(self._company_estates(member), payload)
        except ValidationFailed as exc:
            return self._volunteer_page(person, member, volunteer, 422, typed=typed, errors=_form_errors(exc))

        def again(status: int, **shown: object) -> Response:
            if "error" in shown:  # a conflict is about the phone: another volunteer has it
                shown = {"errors": {"phone": shown.pop("error")}}
            return self._volunteer_page(person, member, volunteer, status, typed=typed, **shown)

        refused = self._change(again, "update_volunteer", member.tenant_id, volunteer_id, payload)
        return refused or see_other(f"/workbench/volunteers/{volunteer_id}?done=saved")

    # --- teams ------------------------------------------------------------------------------

    def _teams_page(self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object) -> Response:
        teams = self._call("volunteers", "list_teams", member.tenant_id)
        return workbench_page(
            "workbench_teams.html", person, member, status, teams=teams, volunteers=self._volunteers(member),
            typed=shown.pop("typed", {}), errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/teams")
    def workbench_teams(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        return self._teams_page(person, member, done=self._volunteers_done(request))

    @endpoint("POST", "/workbench/teams")
    def workbench_create_team(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        typed = request.form.to_dict() | {"member_ids": request.form.getlist("member_ids")}
        try:
            team = self._call("volunteers", "create_team", member.tenant_id, team_payload(request.form))
        except ValidationFailed as exc:
            return self._teams_page(person, member, 422, typed=typed, errors=_form_errors(exc))
        except Conflict as exc:  # the name is taken
            return self._teams_page(person, member, 409, typed=typed, errors={"name": f"没有生效：{exc.detail}"})
        except NotFound as exc:  # a member who is not the company's volunteer
            return self._teams_page(person, member, 422, typed=typed, errors={"member_ids": f"没有生效：{exc.detail}"})
        return see_other(f"/workbench/teams/{team['id']}?done=team")

    def _team_page(
        self, person: SignedIn, member: staff.Membership, team: dict, status: int = 200, **shown: object
    ) -> Response:
        return workbench_page(
            "workbench_team.html", person, member, status, team=team, volunteers=self._volunteers(member),
            typed=shown.pop("typed", {}), errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/teams/<string:team_id>")
    def workbench_team(self, request: Request, team_id: str) -> Response:
        person, member = self._at_workbench(request)
        team = self._found(person, member, "team", "get_team", team_id)
        return self._team_page(person, member, team, done=self._volunteers_done(request))

    def _team_change(self, request: Request, team_id: str, form: str, method: str, *args: object) -> Response:
        """One change to a team through ``volunteers.<method>``: 303 back, or the page with why not."""
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        team = self._found(person, member, "team", "get_team", team_id)
        typed = {form: request.form.to_dict()}

        def again(status: int, **shown: object) -> Response:
            return self._team_page(person, member, team, status, typed=typed, **shown)

        try:
            refused = self._change(again, method, member.tenant_id, team_id, *args, form=form)
        except NotFound:  # the volunteer named is not the company's
            refused = again(422, errors={form: {"volunteer_id": "没有这位志愿者"}})
        return refused or see_other(f"/workbench/teams/{team_id}?done={'saved' if form == 'edit' else 'member'}")

    @endpoint("POST", "/workbench/teams/<string:team_id>")
    def workbench_edit_team(self, request: Request, team_id: str) -> Response:
        return self._team_change(request, team_id, "edit", "update_team", team_update_payload(request.form))

    @endpoint("POST", "/workbench/teams/<string:team_id>/members")
    def workbench_add_member(self, request: Request, team_id: str) -> Response:
        payload = {"volunteer_id": request.form.get("volunteer_id", "")}
        return self._team_change(request, team_id, "add", "add_team_member", payload)

    @endpoint("POST", "/workbench/teams/<string:team_id>/members/<string:volunteer_id>/remove")
    def workbench_remove_member(self, request: Request, team_id: str, volunteer_id: str) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        team = self._found(person, member, "team", "get_team", team_id)
        try:
            self._call("volunteers", "remove_team_member", member.tenant_id, team_id, volunteer_id[:MAX_ID])
        except Conflict as exc:  # the leader stays
            return self._team_page(person, member, team, 409, error=f"没有生效：{exc.detail}")
        except NotFound:  # not in the team (another company's volunteer is not either): 404 as over the API
            return self._team_page(person, member, team, 404, error="没有生效：这位志愿者不在此队伍中。")
        return see_other(f"/workbench/teams/{team_id}?done=removed")

    # --- activities -------------------------------------------------------------------------

    def _activity_list_page(
        self, person: SignedIn, member: staff.Membership, status: int = 200, **shown: object
    ) -> Response:
        state = shown.pop("state", None)
        found = self._call("volunteers", "list_activities", member.tenant_id)
        if state in ("draft", "published", "cancelled"):
            found = [a for a in found if a["status"] == state]
        estates = self._company_estates(member)
        return workbench_page(
            "workbench_activities.html", person, member, status, state=state, estates=estates,
            estate_names={e["id"]: e["name"] for e in estates}, groups=split_by_time(found, utcnow()),
            typed=shown.pop("typed", {}), errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/activities")
    def workbench_activities(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        done = self._volunteers_done(request)
        return self._activity_list_page(person, member, state=request.args.get("status"), done=done)

    def _create(self, request: Request, form: str, method: str, payload: dict, done: str) -> Response:
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        typed = {form: request.form.to_dict()}
        try:
            check_estates(self._company_estates(member), payload)
            made = self._call("volunteers", method, member.tenant_id, payload)
        except ValidationFailed as exc:
            return self._activity_list_page(person, member, 422, typed=typed, errors={form: _form_errors(exc)})
        where = f"/workbench/activities/{made['id']}" if form == "activity" else "/workbench/activities"
        return see_other(f"{where}?done={done}")

    @endpoint("POST", "/workbench/activities")
    def workbench_create_activity(self, request: Request) -> Response:
        return self._create(request, "activity", "create_activity", activity_payload(request.form), "created")

    @endpoint("POST", "/workbench/activity-series")
    def workbench_create_series(self, request: Request) -> Response:
        return self._create(request, "series", "create_series", series_payload(request.form), "series")

    def _activity_page(
        self, person: SignedIn, member: staff.Membership, activity: dict, status: int = 200, **shown: object
    ) -> Response:
        tenant = member.tenant_id
        signups = self._call("volunteers", "resident_signups", tenant, activity["id"])
        volunteers = self._volunteers(member)
        estates = {e["id"]: e["name"] for e in self._company_estates(member)}
        return workbench_page(
            "workbench_activity.html", person, member, status, activity=activity, signups=signups,
            volunteers=volunteers, names={v["id"]: v["name"] for v in volunteers},
            estate_names=estates, begun=has_begun(activity, utcnow()),
            typed=shown.pop("typed", {}), errors=shown.pop("errors", {}), **shown,
        )  # fmt: skip

    @endpoint("GET", "/workbench/activities/<string:activity_id>")
    def workbench_activity(self, request: Request, activity_id: str) -> Response:
        person, member = self._at_workbench(request)
        activity = self._found(person, member, "activity", "get_activity", activity_id)
        return self._activity_page(person, member, activity, done=self._volunteers_done(request))

    def _activity_change(
        self, request: Request, activity_id: str, form: str, done: str, method: str, *args: object
    ) -> Response:
        """One change to an activity through ``volunteers.<method>``: 303 back, or the page with why not."""
        person, member = self._at_workbench(request)
        self._check_csrf(request, person)
        activity = self._found(person, member, "activity", "get_activity", activity_id)
        typed = {form: request.form.to_dict()}

        def again(status: int, **shown: object) -> Response:
            fresh = self._found(person, member, "activity", "get_activity", activity_id)
            return self._activity_page(person, member, fresh, status, typed=typed, **shown)

        try:
            refused = self._change(again, method, member.tenant_id, activity["id"], *args, form=form)
        except NotFound as exc:  # a shift or volunteer that is not the activity's or the company's
            refused = again(422, errors={form: {"volunteer_id": f"没有找到：{exc.detail}"}})
        return refused or see_other(f"/workbench/activities/{activity_id}?done={done}#{form}")

    @endpoint("POST", "/workbench/activities/<string:activity_id>/publish")
    def workbench_publish_activity(self, request: Request, activity_id: str) -> Response:
        return self._activity_change(request, activity_id, "publish", "published", "publish_activity")

    @endpoint("POST", "/workbench/activities/<string:activity_id>/cancel")
    def workbench_cancel_activity(self, request: Request, activity_id: str) -> Response:
        payload = {"reason": request.form.get("reason", "")}
        return self._activity_change(request, activity_id, "cancel", "cancelled", "cancel_activity", payload)

    @endpoint("POST", "/workbench/activities/<string:activity_id>/shifts/<string:shift_id>/volunteers")
    def workbench_staff_shift(self, request: Request, activity_id: str, shift_id: str) -> Response:
        payload = {"volunteer_id": request.form.get("volunteer_id", "")}
        return self._activity_change(
            request, activity_id, "shifts", "staffed", "sign_up_volunteer", shift_id[:MAX_ID], payload
        )

    @endpoint("POST", "/workbench/activities/<string:activity_id>/attendance")
    def workbench_attendance(self, request: Request, activity_id: str) -> Response:
        payload = attendance_payload(request.form)
        return self._activity_change(request, activity_id, "attendance", "attendance", "record_attendance", payload)


VOLUNTEER = page_id("volunteer_id")
TEAM = page_id("team_id")
ACTIVITY = page_id("activity_id")

ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench/volunteers", "Staff: the company's volunteers (masked phone, teams, hours) and the "
          "form to register one", errors=(303, 403)),
    _page("POST", "/workbench/volunteers", "Staff: register a volunteer (form: csrf, name, phone, estate_ids, skills, "
          "party_member)", None, 303, errors=(403, 409, 422)),
    _page("GET", "/workbench/volunteers/{volunteer_id}", "Staff: a volunteer, their hours ledger and the edit form",
          params=(VOLUNTEER,), errors=(303, 403, 404)),
    _page("POST", "/workbench/volunteers/{volunteer_id}", "Staff: change a volunteer (form: csrf, name, phone blank "
          "= unchanged, estate_ids, skills, party_member, active)", None, 303, params=(VOLUNTEER,),
          errors=(403, 404, 409, 422)),
    _page("GET", "/workbench/teams", "Staff: the company's teams and the form to create one", errors=(303, 403)),
    _page("POST", "/workbench/teams", "Staff: create a team (form: csrf, name, description, leader_id, member_ids)",
          None, 303, errors=(403, 422)),
    _page("GET", "/workbench/teams/{team_id}", "Staff: a team, its members, rename and membership forms",
          params=(TEAM,), errors=(303, 403, 404)),
    _page("POST", "/workbench/teams/{team_id}", "Staff: rename a team or name another leader (form: csrf, name, "
          "description, leader_id)", None, 303, params=(TEAM,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/teams/{team_id}/members", "Staff: add a member (form: csrf, volunteer_id)", None, 303,
          params=(TEAM,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/teams/{team_id}/members/{volunteer_id}/remove", "Staff: remove a member, not the "
          "leader (form: csrf)", None, 303, params=(TEAM, VOLUNTEER), errors=(403, 404, 409)),
    _page("GET", "/workbench/activities", "Staff: the company's activities, upcoming and past (status=draft|"
          "published|cancelled), and the forms to create one or a weekly series", errors=(303, 403)),
    _page("POST", "/workbench/activities", "Staff: create a draft activity (form: csrf, title, kind, estate_id, "
          "place, starts_at and ends_at as Asia/Shanghai, capacity, description, shift_name, shift_needed)", None, 303,
          errors=(403, 422)),
    _page("POST", "/workbench/activity-series", "Staff: create a weekly series (form: csrf, title, kind, estate_id, "
          "place, capacity, weekday 0=Monday, start, end, starts_on, until)", None, 303, errors=(403, 422)),
    _page("GET", "/workbench/activities/{activity_id}", "Staff: an activity: details, sign-ups, shifts and, once "
          "begun, the attendance form", params=(ACTIVITY,), errors=(303, 403, 404)),
    _page("POST", "/workbench/activities/{activity_id}/publish", "Staff: publish a draft (form: csrf)", None, 303,
          params=(ACTIVITY,), errors=(403, 404, 409)),
    _page("POST", "/workbench/activities/{activity_id}/cancel", "Staff: cancel, telling everyone signed up (form: "
          "csrf, reason)", None, 303, params=(ACTIVITY,), errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/activities/{activity_id}/shifts/{shift_id}/volunteers", "Staff: put a volunteer on a "
          "shift (form: csrf, volunteer_id)", None, 303, params=(ACTIVITY, page_id("shift_id")),
          errors=(403, 404, 409, 422)),
    _page("POST", "/workbench/activities/{activity_id}/attendance", "Staff: record who came (form: csrf, resident "
          "and volunteer = the sign-ups listed, resident_came and volunteer_came = those ticked); attended shifts "
          "credit hours", None, 303, params=(ACTIVITY,), errors=(403, 404, 409, 422)),
)  # fmt: skip
