"""Recurring activities ("weekly activities, a theme each month"): which dates, at what times.

Pure functions of the rule and a date range (no clock reads): the timer passes ``today``.
Dates and times are Asia/Shanghai wall-clock; the stored instants are naive UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.volunteers.assignment import SHANGHAI
from services.volunteers.availability import clock

#: How far ahead occurrences are generated, so residents can sign up in time.
HORIZON = timedelta(days=28)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` (1–4) ``weekday`` of a month, e.g. the 2nd Saturday."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (nth - 1))


def occurrence_dates(
    *,
    frequency: str,
    weekday: int,
    week_of_month: int | None,
    starts_on: date,
    until: date | None,
    start: date,
    end: date,
) -> list[date]:
    """Dates of the rule within ``[start, end)``, clipped to ``[starts_on, until]``."""
    first = max(start, starts_on)
    last = end - timedelta(days=1)
    if until is not None:
        last = min(last, until)
    if first > last:
        return []
    if frequency == "weekly":
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        found = []
        while day <= last:
            found.append(day)
            day += timedelta(days=7)
        return found
    if frequency == "monthly":
        if week_of_month is None:
            raise ValueError("a monthly rule needs week_of_month")
        found, year, month = [], first.year, first.month
        while date(year, month, 1) <= last:
            day = nth_weekday(year, month, weekday, week_of_month)
            if first <= day <= last:
                found.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found
    raise ValueError(f"unknown frequency {frequency!r}")


def instants(day: date, start: str, end: str) -> tuple[datetime, datetime]:
    """Local "HH:MM" times on ``day`` as naive-UTC start and end."""
    local_start = datetime.combine(day, clock(start), tzinfo=SHANGHAI)
    local_end = datetime.combine(day, clock(end), tzinfo=SHANGHAI)
    return (
        local_start.astimezone(UTC).replace(tzinfo=None),
        local_end.astimezone(UTC).replace(tzinfo=None),
    )


def titled(title: str, themes: dict[str, str], day: date) -> str:
    """The occurrence title: the series title with that month's theme, if one is set."""
    theme = themes.get(day.strftime("%Y-%m"))
    return f"{title}·{theme}" if theme else title


def local_today(now: datetime) -> date:
    aware = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    return aware.astimezone(SHANGHAI).date()
