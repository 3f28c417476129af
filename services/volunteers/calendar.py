"""Views: an estate's week of activities (JSON and the public page) and a volunteer's schedule.

Weeks run Monday to Sunday in Asia/Shanghai. The calendar carries counts, never a resident's
name or phone, because the public page is built from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from services.volunteers import activities, registry, signups, visits
from services.volunteers.assignment import SHANGHAI
from services.volunteers.recurrence import local_today
from services.volunteers.schemas import ScheduleItemSchema


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    return moment.replace(tzinfo=UTC).astimezone(SHANGHAI).date()


def week(session: Session, estate_id: str, week_of: date | None, now: datetime, tenant: str | None = None) -> dict:
    """Seven days of the estate's published (and called-off) activities.

    ``tenant`` scopes the authenticated JSON; the public page passes ``None`` and relies on
    estate ids being unique across tenants.
    """
    monday, sunday = week_bounds(week_of or local_today(now))
    found = [
        a
        for a in activities.in_range(session, _utc(monday), _utc(sunday + timedelta(days=1)), tenant)
        if estate_id in a.estate_ids
    ]
    dumped = activities.dump_many(session, found)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        days.append(
            {
                "date": day.isoformat(),
                "activities": [d for a, d in zip(found, dumped, strict=True) if local_date(a.starts_at) == day],
            }
        )
    return {"estate_id": estate_id, "week_start": monday.isoformat(), "week_end": sunday.isoformat(), "days": days}


def schedule(session: Session, tenant: str, volunteer_id: str, now: datetime) -> list[dict]:
    """The volunteer's open visits and coming shifts, soonest first."""
    registry.find(session, tenant, volunteer_id)
    items = [
        {
            "kind": "visit",
            "id": visit.id,
            "title": f"回访: {visit.case_title}",
            "estate_ids": [visit.estate_id],
            "place": visit.resident_household,
            "starts_at": None,
            "ends_at": visit.due_at,
            "status": visit.status,
        }
        for visit in visits.open_for_volunteer(session, tenant, volunteer_id)
    ]
    items += [
        {
            "kind": "shift",
            "id": shift.id,
            "title": f"{activity.title} / {shift.name}",
            "estate_ids": list(activity.estate_ids),
            "place": activity.place,
            "starts_at": shift.starts_at,
            "ends_at": shift.ends_at,
            "status": "signed_up",
        }
        for shift, activity in signups.volunteer_shifts(session, tenant, volunteer_id, now)
    ]
    items.sort(key=lambda item: (item["starts_at"] or item["ends_at"], item["id"]))
    return ScheduleItemSchema(many=True).dump(items)
