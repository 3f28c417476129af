"""Sign-ups: residents to activities (one per household, capacity, waiting list), volunteers to
shifts, and attendance recorded afterwards (attended shifts credit service hours).

Every change first takes the activity with :func:`services.volunteers.activities.lock`, so
concurrent sign-ups through any number of service instances are serialised per activity:
exactly ``capacity`` confirmed, the rest waiting in the order they came, and a partial unique
index backs up "one live sign-up per household".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.ids import new_id
from services.volunteers import activities, hours, registry
from services.volunteers.models import Activity, ResidentSignup, Shift, ShiftSignup
from services.volunteers.schemas import ResidentSignupSchema, ShiftSignupSchema, utc_text

log = logging.getLogger(__name__)

Emit = Callable[[Session, str, str, str, dict], Any]


def household_key(household: str) -> str:
    """ "3-2-501" and " 3 - 2 - 501 " are one household: spaces dropped, letters upper-cased."""
    return re.sub(r"\s+", "", household).upper()


def _open_for_signup(activity: Activity, now: datetime) -> None:
    if activity.status != "published":
        raise Conflict(f"activity is {activity.status}, sign-up is closed")
    if activity.starts_at <= now:
        raise Conflict("activity has started, sign-up is closed")


def sign_up_resident(session: Session, tenant: str, activity_id: str, data: dict, now: datetime | None = None) -> dict:
    """Confirmed while places remain, else waiting (position = arrival order)."""
    now = now or utcnow()
    activity = activities.lock(session, tenant, activity_id)
    _open_for_signup(activity, now)
    household = household_key(data["household"])
    taken = session.scalar(
        select(ResidentSignup.id).where(
            ResidentSignup.activity_id == activity.id,
            ResidentSignup.household == household,
            ResidentSignup.status != "cancelled",
        )
    )
    if taken is not None:
        raise Conflict("该户已报名此活动 (this household has already signed up)")
    confirmed = session.scalar(
        select(func.count()).where(ResidentSignup.activity_id == activity.id, ResidentSignup.status == "confirmed")
    )
    signup = ResidentSignup(
        id=new_id(),
        tenant=tenant,
        activity_id=activity.id,
        household=household,
        name=data["name"],
        phone=data["phone"],
        status="confirmed" if confirmed < activity.capacity else "waiting",
        position=activity.signup_seq,
        created_at=now,
    )
    session.add(signup)
    session.flush()
    return ResidentSignupSchema().dump(signup)


def cancel_resident(
    session: Session, emit: Emit, tenant: str, activity_id: str, signup_id: str, now: datetime | None = None
) -> dict:
    """Give the place back; the first household waiting is promoted and told."""
    activity = activities.lock(session, tenant, activity_id)
    signup = session.scalars(
        select(ResidentSignup).where(ResidentSignup.id == signup_id, ResidentSignup.activity_id == activity.id)
    ).first()
    if signup is None:
        raise NotFound(f"sign-up {signup_id} not found")
    if signup.status == "cancelled":
        raise Conflict("sign-up is already cancelled")
    was_confirmed = signup.status == "confirmed"
    signup.status = "cancelled"
    session.flush()
    if was_confirmed and activity.status == "published":
        promote_waiting(session, emit, activity, now or utcnow())
    return ResidentSignupSchema().dump(signup)


def promote_waiting(session: Session, emit: Emit, activity: Activity, now: datetime) -> list[ResidentSignup]:
    """Fill free places from the head of the waiting list (caller holds the activity lock)."""
    confirmed = session.scalar(
        select(func.count()).where(ResidentSignup.activity_id == activity.id, ResidentSignup.status == "confirmed")
    )
    free = max(activity.capacity - confirmed, 0)
    promoted = list(
        session.scalars(
            select(ResidentSignup)
            .where(ResidentSignup.activity_id == activity.id, ResidentSignup.status == "waiting")
            .order_by(ResidentSignup.position)
            .limit(free)
        )
    )
    for signup in promoted:
        signup.status = "confirmed"
        signup.promoted_at = now
        data = {
            "activity_id": activity.id,
            "signup_id": signup.id,
            "title": activity.title,
            "place": activity.place,
            "starts_at": utc_text(activity.starts_at),
            "resident": {"name": signup.name, "phone": signup.phone, "household": signup.household},
        }
        emit(session, "activity.signup_promoted", signup.id, activity.tenant, data)
    session.flush()
    return promoted


def resident_signups(session: Session, tenant: str, activity_id: str) -> list[dict]:
    activity = activities.find(session, tenant, activity_id)
    rows = session.scalars(
        select(ResidentSignup)
        .where(ResidentSignup.activity_id == activity.id)
        .order_by(ResidentSignup.position, ResidentSignup.id)
    )
    return ResidentSignupSchema(many=True).dump(rows)


def household_signups(session: Session, tenant: str, household: str, activity_ids: list[str]) -> list[dict]:
    """The household's live sign-ups to these activities, each with its place in the waiting list.

    ``place`` counts the households still waiting ahead (1 = next to be promoted); None when
    confirmed. The resident pages show it; a sign-up's ``position`` is only its arrival number.
    """
    if not activity_ids:
        return []
    mine = list(
        session.scalars(
            select(ResidentSignup).where(
                ResidentSignup.tenant == tenant,
                ResidentSignup.activity_id.in_(activity_ids),
                ResidentSignup.household == household_key(household),
                ResidentSignup.status != "cancelled",
            )
        )
    )
    views = []
    for signup in mine:
        place = None
        if signup.status == "waiting":
            place = session.scalar(
                select(func.count()).where(
                    ResidentSignup.activity_id == signup.activity_id,
                    ResidentSignup.status == "waiting",
                    ResidentSignup.position <= signup.position,
                )
            )
        views.append(ResidentSignupSchema().dump(signup) | {"place": place})
    return views


# --- volunteer shifts ------------------------------------------------------------------------


def _shift(session: Session, activity: Activity, shift_id: str) -> Shift:
    shift = session.scalars(select(Shift).where(Shift.id == shift_id, Shift.activity_id == activity.id)).first()
    if shift is None:
        raise NotFound(f"shift {shift_id} not found")
    return shift


def sign_up_volunteer(
    session: Session, tenant: str, activity_id: str, shift_id: str, volunteer_id: str, now: datetime | None = None
) -> dict:
    """A volunteer takes a place on a shift: active, with every skill it needs, while places remain."""
    now = now or utcnow()
    activity = activities.lock(session, tenant, activity_id)
    _open_for_signup(activity, now)
    shift = _shift(session, activity, shift_id)
    volunteer = registry.find(session, tenant, volunteer_id)
    if not volunteer.active:
        raise Conflict("志愿者已暂停服务 (the volunteer is paused)")
    missing = sorted(set(shift.skills) - set(volunteer.skills))
    if missing:
        raise ValidationFailed(
            "missing skills", {"volunteer_id": [f"缺少此班次所需技能 (lacks the shift's skills): {', '.join(missing)}"]}
        )
    existing = session.scalars(
        select(ShiftSignup).where(ShiftSignup.shift_id == shift.id, ShiftSignup.volunteer_id == volunteer.id)
    ).first()
    if existing is not None and existing.status == "signed_up":
        raise Conflict("该志愿者已在此班次 (already on this shift)")
    taken = session.scalar(
        select(func.count()).where(ShiftSignup.shift_id == shift.id, ShiftSignup.status == "signed_up")
    )
    if taken >= shift.needed:
        raise Conflict("班次已满 (the shift is full)")
    if existing is None:
        existing = ShiftSignup(
            id=new_id(),
            tenant=tenant,
            shift_id=shift.id,
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            created_at=now,
        )
        session.add(existing)
    existing.status = "signed_up"
    session.flush()
    return ShiftSignupSchema().dump(existing)


def cancel_volunteer(session: Session, tenant: str, activity_id: str, signup_id: str) -> dict:
    activity = activities.lock(session, tenant, activity_id)
    signup = session.scalars(
        select(ShiftSignup).where(ShiftSignup.id == signup_id, ShiftSignup.activity_id == activity.id)
    ).first()
    if signup is None:
        raise NotFound(f"shift sign-up {signup_id} not found")
    if signup.status != "signed_up":
        raise Conflict("shift sign-up is already cancelled")
    if signup.attended is not None:
        raise Conflict("attendance is recorded, the sign-up can no longer be cancelled")
    signup.status = "cancelled"
    session.flush()
    return ShiftSignupSchema().dump(signup)


# --- attendance -----------------------------------------------------------------------------


def record_attendance(session: Session, tenant: str, activity_id: str, data: dict, now: datetime | None = None) -> dict:
    """Who came, recorded once the activity has begun; each attended shift credits its hours.

    Attendance is final once recorded (a different answer later is a 409), because the hours
    it credited are in the ledger; a mistake there is corrected with a ledger correction.
    """
    now = now or utcnow()
    activity = activities.lock(session, tenant, activity_id)
    if activity.status != "published":
        raise Conflict(f"activity is {activity.status}")
    if activity.starts_at > now:
        raise Conflict("activity has not started, attendance is recorded afterwards")
    residents = _mark(session, ResidentSignup, activity, data["residents"], live=("confirmed",), field="residents")
    volunteers = _mark(session, ShiftSignup, activity, data["volunteers"], live=("signed_up",), field="volunteers")
    shifts = {s.id: s for s in session.scalars(select(Shift).where(Shift.activity_id == activity.id))}
    credited = 0
    for signup in volunteers:
        if not signup.attended:
            continue
        shift = shifts[signup.shift_id]
        entry = hours.credit(
            session,
            tenant,
            volunteer_id=signup.volunteer_id,
            estate_id=activity.estate_ids[0] if activity.estate_ids else None,
            minutes=round((shift.ends_at - shift.starts_at).total_seconds() / 60),
            reason=f"活动: {activity.title} / {shift.name}",
            source="shift",
            source_id=signup.id,
            served_at=shift.starts_at,
        )
        credited += entry is not None
    return {
        "residents": ResidentSignupSchema(many=True).dump(residents),
        "volunteers": ShiftSignupSchema(many=True).dump(volunteers),
        "credited": credited,
    }


def _mark(session: Session, model: type, activity: Activity, lines: list[dict], live: tuple, field: str) -> list:
    ids = [line["signup_id"] for line in lines]
    found = {
        s.id: s
        for s in session.scalars(select(model).where(model.id.in_(ids), model.activity_id == activity.id))
        if s.status in live
    }
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ValidationFailed(
            "unknown sign-up", {field: [f"没有这个有效报名 (no such live sign-up): {i}" for i in unknown]}
        )
    marked = []
    for line in lines:
        signup = found[line["signup_id"]]
        if signup.attended is not None and signup.attended != line["attended"]:
            raise Conflict(f"attendance of {signup.id} is already recorded")
        signup.attended = line["attended"]
        marked.append(signup)
    session.flush()
    return marked


def volunteer_shifts(session: Session, tenant: str, volunteer_id: str, since: datetime) -> list[tuple[Shift, Activity]]:
    """The volunteer's live shifts ending after ``since``, soonest first (their schedule)."""
    rows = session.execute(
        select(Shift, Activity)
        .join(ShiftSignup, ShiftSignup.shift_id == Shift.id)
        .join(Activity, Activity.id == Shift.activity_id)
        .where(
            ShiftSignup.tenant == tenant,
            ShiftSignup.volunteer_id == volunteer_id,
            ShiftSignup.status == "signed_up",
            Activity.status == "published",
            Shift.ends_at > since,
        )
        .order_by(Shift.starts_at)
    ).all()
    return [(shift, activity) for shift, activity in rows]


def find_shift(session: Session, tenant: str, activity_id: str, shift_id: str) -> Shift:
    return _shift(session, activities.find(session, tenant, activity_id), shift_id)
