"""Community activities (义诊, 义务理发, 磨刀, 红色电影, 消防讲座 …): create, publish, cancel, series.

Publishing tells the estates (``activity.published``); cancelling tells everyone signed up
(``activity.cancelled`` with the recipients). Both are conditional UPDATEs on the status, so
an activity is announced or called off exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.volunteers import recurrence, registry
from services.volunteers.models import Activity, ActivitySeries, ResidentSignup, Shift, ShiftSignup
from services.volunteers.schemas import (
    ActivityCancelledEventSchema,
    ActivityPublishedEventSchema,
    ActivitySchema,
    SeriesSchema,
    ShiftSchema,
    utc_text,
)

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]
LIVE = ("confirmed", "waiting")


def find(session: Session, tenant: str, activity_id: str) -> Activity:
    activity = session.scalars(
        select(Activity)
        .where(Activity.id == activity_id, Activity.tenant == tenant)
        .execution_options(populate_existing=True)
    ).first()
    if activity is None:
        raise NotFound(f"activity {activity_id} not found")
    return activity


def lock(session: Session, tenant: str, activity_id: str) -> Activity:
    """Serialise every sign-up change of one activity: a conditional UPDATE first.

    On PostgreSQL it holds the activity row; on SQLite it takes the database write lock
    before anything is read, so counts read next are the latest (no stale snapshot).
    """
    bumped = session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.tenant == tenant)
        .values(signup_seq=Activity.signup_seq + 1)
    ).rowcount
    if not bumped:
        raise NotFound(f"activity {activity_id} not found")
    return find(session, tenant, activity_id)


def _shift(activity: Activity, data: dict) -> Shift:
    starts_at = data.get("starts_at") or activity.starts_at
    ends_at = data.get("ends_at") or activity.ends_at
    return Shift(
        id=new_id(),
        tenant=activity.tenant,
        activity_id=activity.id,
        name=data["name"],
        skills=sorted(set(data.get("skills") or [])),
        needed=data["needed"],
        starts_at=starts_at,
        ends_at=ends_at,
        signup_seq=0,
    )


def _check_shift_times(activity: Activity, shifts: list[Shift]) -> None:
    errors = {}
    for index, shift in enumerate(shifts):
        if not (activity.starts_at <= shift.starts_at < shift.ends_at <= activity.ends_at):
            errors[str(index)] = {"ends_at": ["班次须在活动时间内且开始早于结束 (a shift lies within the activity)"]}
    if errors:
        raise ValidationFailed("invalid shifts", {"shifts": errors})


def create(session: Session, emit: Emit, tenant: str, data: dict, now: datetime | None = None) -> dict:
    activity = Activity(
        id=new_id(),
        tenant=tenant,
        title=data["title"],
        kind=data["kind"],
        description=data.get("description"),
        estate_ids=sorted(set(data["estate_ids"])),
        place=data["place"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        capacity=data["capacity"],
        status="draft",
        signup_seq=0,
        created_at=utcnow(),
    )
    shifts = [_shift(activity, s) for s in data.get("shifts", [])]
    _check_shift_times(activity, shifts)
    session.add(activity)
    session.add_all(shifts)
    session.flush()
    if data.get("publish"):
        return publish(session, emit, tenant, activity.id, now)
    return dump(session, activity)


def publish(session: Session, emit: Emit, tenant: str, activity_id: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    published = session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.tenant == tenant, Activity.status == "draft")
        .values(status="published", published_at=now)
    ).rowcount
    activity = find(session, tenant, activity_id)
    if not published:
        raise Conflict(f"activity is {activity.status}, only a draft can be published")
    _announce(session, emit, activity)
    return dump(session, activity)


def _announce(session: Session, emit: Emit, activity: Activity) -> None:
    data = {
        "activity_id": activity.id,
        "title": activity.title,
        "kind": activity.kind,
        "estate_ids": list(activity.estate_ids),
        "place": activity.place,
        "starts_at": utc_text(activity.starts_at),
        "ends_at": utc_text(activity.ends_at),
        "capacity": activity.capacity,
    }
    emit(session, "activity.published", activity.id, activity.tenant, ActivityPublishedEventSchema().dump(data))
    log.info("activity %s published for %s", activity.id, activity.estate_ids)


def cancel(session: Session, emit: Emit, tenant: str, activity_id: str, reason: str) -> dict:
    """Call the activity off and tell every resident and volunteer still signed up."""
    lock(session, tenant, activity_id)
    cancelled = session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.tenant == tenant, Activity.status.in_(("draft", "published")))
        .values(status="cancelled", cancel_reason=reason)
    ).rowcount
    activity = find(session, tenant, activity_id)
    if not cancelled:
        raise Conflict(f"activity is already {activity.status}")
    if activity.published_at is not None:
        data = {
            "activity_id": activity.id,
            "title": activity.title,
            "estate_ids": list(activity.estate_ids),
            "starts_at": utc_text(activity.starts_at),
            "reason": reason,
            "recipients": recipients(session, activity),
        }
        emit(session, "activity.cancelled", activity.id, tenant, ActivityCancelledEventSchema().dump(data))
    log.info("activity %s cancelled: %s", activity.id, reason)
    return dump(session, activity)


def recipients(session: Session, activity: Activity) -> list[dict]:
    """Everyone still signed up: residents (confirmed or waiting), then volunteers on shifts."""
    residents = session.scalars(
        select(ResidentSignup)
        .where(ResidentSignup.activity_id == activity.id, ResidentSignup.status.in_(LIVE))
        .order_by(ResidentSignup.position)
    )
    found = [{"name": r.name, "phone": r.phone, "household": r.household, "role": "resident"} for r in residents]
    volunteer_ids = set(
        session.scalars(
            select(ShiftSignup.volunteer_id).where(
                ShiftSignup.activity_id == activity.id, ShiftSignup.status == "signed_up"
            )
        )
    )
    people = registry.names(session, activity.tenant, volunteer_ids)
    found += [
        {"name": people[v].name, "phone": people[v].phone, "household": None, "role": "volunteer"}
        for v in sorted(volunteer_ids)
        if v in people
    ]
    return found


def dump_many(session: Session, activities: list[Activity]) -> list[dict]:
    """Activities with their sign-up counts and shifts (never a resident's name or phone)."""
    ids = [a.id for a in activities]
    counts: dict[tuple[str, str], int] = {}
    shifts: dict[str, list[dict]] = {i: [] for i in ids}
    if ids:
        for activity_id, status, count in session.execute(
            select(ResidentSignup.activity_id, ResidentSignup.status, func.count())
            .where(ResidentSignup.activity_id.in_(ids))
            .group_by(ResidentSignup.activity_id, ResidentSignup.status)
        ):
            counts[(activity_id, status)] = count
        staffed: dict[str, list[str]] = {}
        signed: dict[str, list[dict]] = {}  # the sign-up ids attendance is recorded against
        for signup in session.scalars(
            select(ShiftSignup)
            .where(ShiftSignup.activity_id.in_(ids), ShiftSignup.status == "signed_up")
            .order_by(ShiftSignup.created_at, ShiftSignup.id)
        ):
            staffed.setdefault(signup.shift_id, []).append(signup.volunteer_id)
            signed.setdefault(signup.shift_id, []).append(
                {"id": signup.id, "volunteer_id": signup.volunteer_id, "attended": signup.attended}
            )
        for shift in session.scalars(select(Shift).where(Shift.activity_id.in_(ids)).order_by(Shift.starts_at)):
            shifts[shift.activity_id].append(
                {
                    "id": shift.id,
                    "name": shift.name,
                    "skills": shift.skills,
                    "needed": shift.needed,
                    "starts_at": shift.starts_at,
                    "ends_at": shift.ends_at,
                    "volunteer_ids": staffed.get(shift.id, []),
                    "signups": signed.get(shift.id, []),
                }
            )
    dumped = []
    for activity in activities:
        row = ActivitySchema(exclude=("confirmed", "waiting", "shifts")).dump(activity)
        row["confirmed"] = counts.get((activity.id, "confirmed"), 0)
        row["waiting"] = counts.get((activity.id, "waiting"), 0)
        row["shifts"] = ShiftSchema(many=True).dump(shifts[activity.id])
        dumped.append(row)
    return dumped


def dump(session: Session, activity: Activity) -> dict:
    return dump_many(session, [activity])[0]


def get(session: Session, tenant: str, activity_id: str) -> dict:
    return dump(session, find(session, tenant, activity_id))


def in_range(session: Session, start: datetime, end: datetime, tenant: str | None = None) -> list[Activity]:
    """Published or cancelled activities starting in ``[start, end)``; all tenants when ``None``."""
    query = select(Activity).where(
        Activity.starts_at >= start, Activity.starts_at < end, Activity.status.in_(("published", "cancelled"))
    )
    if tenant is not None:
        query = query.where(Activity.tenant == tenant)
    return list(session.scalars(query.order_by(Activity.starts_at, Activity.id)))


def list_activities(session: Session, tenant: str) -> list[dict]:
    rows = session.scalars(select(Activity).where(Activity.tenant == tenant).order_by(Activity.starts_at.desc()))
    return dump_many(session, list(rows.all())[:200])


# --- recurring series ------------------------------------------------------------------------


def create_series(session: Session, emit: Emit, tenant: str, data: dict, now: datetime) -> dict:
    """A recurring activity; its first weeks are generated (and published) at once."""
    series = ActivitySeries(
        id=new_id(),
        tenant=tenant,
        title=data["title"],
        kind=data["kind"],
        description=data.get("description"),
        estate_ids=sorted(set(data["estate_ids"])),
        place=data["place"],
        capacity=data["capacity"],
        frequency=data["frequency"],
        weekday=data["weekday"],
        week_of_month=data.get("week_of_month"),
        start_time=data["start"],
        end_time=data["end"],
        starts_on=data["starts_on"],
        until=data.get("until"),
        themes=data.get("themes") or {},
        shifts=data.get("shifts") or [],
        generated_until=max(data["starts_on"], recurrence.local_today(now)),
        active=True,
        created_at=utcnow(),
    )
    session.add(series)
    session.flush()
    generate(session, emit, series.id, series.generated_until, now)
    return SeriesSchema().dump(session.get(ActivitySeries, series.id))


def series_due(session: Session, now: datetime) -> list[tuple[str, object]]:
    """(series id, generated_until) of every active series whose horizon has moved on."""
    target = recurrence.local_today(now) + recurrence.HORIZON
    rows = session.execute(
        select(ActivitySeries.id, ActivitySeries.generated_until).where(
            ActivitySeries.active.is_(True), ActivitySeries.generated_until < target
        )
    )
    return [(series_id, until) for series_id, until in rows]


def generate(session: Session, emit: Emit, series_id: str, seen_until: object, now: datetime) -> int:
    """Create the occurrences from ``seen_until`` to the horizon; 0 if another instance did.

    Advancing ``generated_until`` with ``WHERE generated_until = seen_until`` is the claim:
    of two instances that saw the same window, exactly one creates its occurrences.
    """
    target = recurrence.local_today(now) + recurrence.HORIZON
    claimed = session.execute(
        update(ActivitySeries)
        .where(ActivitySeries.id == series_id, ActivitySeries.generated_until == seen_until)
        .values(generated_until=target)
    ).rowcount
    if not claimed:
        return 0
    series = session.scalars(
        select(ActivitySeries).where(ActivitySeries.id == series_id).execution_options(populate_existing=True)
    ).one()
    days = recurrence.occurrence_dates(
        frequency=series.frequency,
        weekday=series.weekday,
        week_of_month=series.week_of_month,
        starts_on=series.starts_on,
        until=series.until,
        start=seen_until,  # type: ignore[arg-type]
        end=target,
    )
    for day in days:
        starts_at, ends_at = recurrence.instants(day, series.start_time, series.end_time)
        activity = Activity(
            id=new_id(),
            tenant=series.tenant,
            series_id=series.id,
            occurs_on=day,
            title=recurrence.titled(series.title, series.themes, day),
            kind=series.kind,
            description=series.description,
            estate_ids=list(series.estate_ids),
            place=series.place,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=series.capacity,
            status="published",
            signup_seq=0,
            created_at=utcnow(),
            published_at=utcnow(),
        )
        session.add(activity)
        session.add_all(_shift(activity, dict(shift)) for shift in series.shifts)
        session.flush()
        _announce(session, emit, activity)
    log.info("series %s: %d occurrences up to %s", series.id, len(days), target)
    return len(days)


def generate_due(db: Any, now: datetime) -> int:
    """The timer's work: extend every series to the horizon; returns occurrences this instance made."""
    with db.read() as session:
        found = series_due(session, now)
    made = 0
    for series_id, seen_until in found:
        with db.transaction() as session:
            made += generate(session, db.emit, series_id, seen_until, now)
    return made
