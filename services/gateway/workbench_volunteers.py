"""Volunteers, teams and activities at the workbench, in words: forms → the API's payloads.

Nothing here decides anything: the volunteers service validates a volunteer, a team or an
activity and says whether it may still change (publish a draft, record attendance once it has
begun). These functions turn a form into the body the API takes, and the answers into what a
page lists (upcoming or past, the volunteers' hours and teams).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from werkzeug.datastructures import MultiDict

from services.gateway import calendar_page, pages
from services.gateway.workbench import number, parse_time

SKILL_NAMES = {
    "visit": "回访",
    "repair": "维修",
    "electrical": "电工",
    "plumbing": "水暖",
    "medical": "医疗",
    "haircut": "理发",
    "escort": "陪护",
    "cultural": "文艺",
    "cleaning": "保洁",
    "knife_sharpening": "磨刀",
    "appliance_repair": "小家电维修",
    "fire_safety": "消防",
}
ACTIVITY_KIND_NAMES = calendar_page.KINDS | {"other": "其他"}  # the calendar's words; "other" named as a choice
ACTIVITY_STATES = {"draft": "草稿", "published": "已发布", "cancelled": "已取消"}
SIGNUP_STATES = {"confirmed": "已报名", "waiting": "候补", "cancelled": "已取消"}
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
WHEN = {"upcoming": "未开始", "past": "已开始 / 已结束"}


def _drop_none(payload: dict) -> dict:
    return {k: v for k, v in payload.items() if v is not None}


def volunteer_payload(form: MultiDict, editing: bool = False) -> dict:
    """The volunteer form → ``POST /api/v1/volunteers`` (or ``PATCH`` when editing: a blank phone
    keeps the number, which the page shows masked only)."""
    payload = {
        "name": form.get("name", ""),
        "phone": form.get("phone", "").strip() or (None if editing else ""),
        "party_member": form.get("party_member") == "on",
        "estate_ids": form.getlist("estate_ids"),
        "skills": form.getlist("skills"),
    }
    if editing:
        payload["active"] = form.get("active") == "on"
    return _drop_none(payload)


def team_payload(form: MultiDict) -> dict:
    """The new-team form → ``POST /api/v1/teams``: the leader is always among the members."""
    leader = form.get("leader_id", "")
    members = list(dict.fromkeys([*([leader] if leader else []), *form.getlist("member_ids")]))
    return {
        "name": form.get("name", ""),
        "description": form.get("description", "").strip() or None,
        "leader_id": leader,
        "member_ids": members,
    }


def team_update_payload(form: Mapping[str, str]) -> dict:
    return {
        "name": form.get("name", ""),
        "description": form.get("description", "").strip() or None,
        "leader_id": form.get("leader_id", ""),
    }


def activity_payload(form: Mapping[str, str]) -> dict:
    """The new-activity form → ``POST /api/v1/activities`` as a draft (published from its page).
    Times are the page's datetime-local fields, read by the service as Asia/Shanghai."""
    shift = form.get("shift_name", "").strip()
    payload = {
        "title": form.get("title", ""),
        "kind": form.get("kind", ""),
        "description": form.get("description", "").strip() or None,
        "estate_ids": [form["estate_id"]] if form.get("estate_id") else [],
        "place": form.get("place", ""),
        "starts_at": form.get("starts_at", "").strip() or None,
        "ends_at": form.get("ends_at", "").strip() or None,
        "capacity": number(form.get("capacity")),
        "shifts": [_drop_none({"name": shift, "needed": number(form.get("shift_needed")) or 1})] if shift else [],
        "publish": False,
    }
    return _drop_none(payload)


def series_payload(form: Mapping[str, str]) -> dict:
    """The weekly-series form → ``POST /api/v1/activity-series`` (every week on one weekday)."""
    payload = {
        "title": form.get("title", ""),
        "kind": form.get("kind", ""),
        "description": form.get("description", "").strip() or None,
        "estate_ids": [form["estate_id"]] if form.get("estate_id") else [],
        "place": form.get("place", ""),
        "capacity": number(form.get("capacity")),
        "frequency": "weekly",
        "weekday": number(form.get("weekday")),
        "start": form.get("start", "").strip() or None,
        "end": form.get("end", "").strip() or None,
        "starts_on": form.get("starts_on", "").strip() or None,
        "until": form.get("until", "").strip() or None,
    }
    return _drop_none(payload)


def attendance_payload(form: MultiDict) -> dict:
    """The attendance form → ``POST …/attendance``: every listed sign-up, ticked or not (ticked
    = came). Only sign-ups not yet recorded are listed, since a recorded answer is final."""
    ticked_residents = set(form.getlist("resident_came"))
    ticked_volunteers = set(form.getlist("volunteer_came"))
    return {
        "residents": [{"signup_id": i, "attended": i in ticked_residents} for i in form.getlist("resident")],
        "volunteers": [{"signup_id": i, "attended": i in ticked_volunteers} for i in form.getlist("volunteer")],
    }


def said(errors: object) -> list[str]:
    """Every message of a nested error (a shift's ``{0: {"needed": [...]}}``), in order."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in said(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in said(value)]
    return [str(errors)]


def has_begun(activity: dict, now: datetime) -> bool:
    """Begun activities are past for the list and take attendance (the service's own rule)."""
    starts = parse_time(activity.get("starts_at"))
    return starts is not None and starts <= now


def split_by_time(activities: Iterable[dict], now: datetime) -> dict[str, list[dict]]:
    """Upcoming soonest first, begun ones newest first."""
    found = list(activities)
    upcoming = sorted((a for a in found if not has_begun(a, now)), key=lambda a: a["starts_at"])
    past = sorted((a for a in found if has_begun(a, now)), key=lambda a: a["starts_at"], reverse=True)
    return {"upcoming": upcoming, "past": past}


def hours_by_volunteer(totals: Iterable[dict]) -> dict[str, float]:
    """``GET /api/v1/hours/totals?by=volunteer`` rows → hours per volunteer id."""
    return {row["key"]: row["hours"] for row in totals}


pages.ENV.globals.update(
    skill_names=SKILL_NAMES,
    activity_kind_names=ACTIVITY_KIND_NAMES,
    activity_states=ACTIVITY_STATES,
    signup_states=SIGNUP_STATES,
    weekdays=WEEKDAYS,
)
