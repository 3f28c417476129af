"""The public estate calendar page (zh-CN, mobile-first, no JavaScript, autoescaped).

It is built from the calendar JSON, which carries counts only: no resident's name or phone
can reach this page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.gateway.pages import ENV
from services.volunteers.assignment import SHANGHAI

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
KINDS = {
    "free_clinic": "义诊",
    "haircut": "义务理发",
    "knife_sharpening": "磨刀",
    "appliance_repair": "维修小家电",
    "red_film": "红色电影",
    "fire_safety_talk": "消防讲座",
    "red_song": "红歌",
    "other": "活动",
}


def _clock(text: str) -> str:
    """ "2026-12-02T01:30:00Z" as Shanghai "09:30"."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return moment.astimezone(SHANGHAI).strftime("%H:%M")


def _day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.month}月{day.day}日 {WEEKDAYS[day.weekday()]}"


def calendar_page(week: dict | None, invalid: bool = False) -> str:
    """The week's page; ``invalid`` when the requested week could not be read."""
    days = []
    for entry in (week or {}).get("days", []):
        items = [
            {
                "title": a["title"],
                "kind": KINDS.get(a["kind"], "活动"),
                "time": f"{_clock(a['starts_at'])}–{_clock(a['ends_at'])}",
                "place": a["place"],
                "cancelled": a["status"] == "cancelled",
                "reason": a.get("cancel_reason"),
                "capacity": a["capacity"],
                "left": max(a["capacity"] - a["confirmed"], 0),
                "waiting": a["waiting"],
            }
            for a in entry["activities"]
        ]
        days.append({"label": _day(entry["date"]), "items": items})
    monday = date.fromisoformat(week["week_start"]) if week else date.today()
    return ENV.get_template("calendar.html").render(
        week=week,
        days=days,
        invalid=invalid,
        prev_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
    )
