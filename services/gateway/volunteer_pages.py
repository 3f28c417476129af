"""The volunteer's own pages (/v): zh-CN, phone first, no JavaScript, autoescaped.

Only wording and local times are decided here. What a volunteer may see (the resident's phone
only on their open visit) and do (the ``actions`` of a visit) comes from the volunteers
service's answers; the templates print them and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.wrappers import Response

from services.common.fields import SHANGHAI
from services.common.phones import mask_phone
from services.gateway.pages import ENV
from services.gateway.people import person_page
from services.gateway.sessions import SignedIn

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

#: A visit's state → (label, badge class in people.css).
STATES = {
    "assigned": ("待接受", "open"),
    "accepted": ("已接受", "accepted"),
    "overdue": ("已逾期", "late"),
    "done": ("已完成", "done"),
    "cancelled": ("已取消", "cancelled"),
}
OUTCOMES = {"satisfied": "满意", "unsatisfied": "不满意", "unreachable": "未联系上"}
#: What a finished action says on the page it leads to (``?done=…``, after the redirect).
DONE = {
    "accepted": "已接受这次回访，请在截止时间前联系居民。",
    "completed": "回访结果已提交，谢谢您！",
    "declined": "已婉拒这次回访，系统已按公平规则转给其他志愿者。",
}
#: Why an action could not be done (the form stays on the page, nothing changed).
STALE = "这次回访已经结束或已转给他人，您的操作没有生效。"
FIELDS = {"outcome": "回访结果", "notes": "备注", "reason": "婉拒原因", "_schema": "提交内容"}
TABS = (("visits", "/v", "我的回访"), ("hours", "/v/hours", "服务时长"), ("shifts", "/v/shifts", "活动排班"))


def when(text: str | None) -> str:
    """An API time ("2026-12-03T06:30:00Z") as Shanghai wall-clock: "12月3日 周四 14:30"."""
    if not text:
        return ""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).astimezone(SHANGHAI)
    return f"{moment.month}月{moment.day}日 {WEEKDAYS[moment.weekday()]} {moment:%H:%M}"


def span(start: str | None, end: str | None) -> str:
    """A shift's time: "12月3日 周四 09:00–11:00", or both ends in full when it runs past midnight."""
    if not start or not end:
        return when(start or end)
    first, last = when(start), when(end)
    same_day = first.rsplit(" ", 1)[0] == last.rsplit(" ", 1)[0]
    return f"{first}–{last.rsplit(' ', 1)[1]}" if same_day else f"{first} – {last}"


def spaced(phone: str) -> str:
    """+8613912345678 → "139 1234 5678": a number a volunteer can read out and dial."""
    digits = phone.removeprefix("+86")
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}" if len(digits) == 11 else digits


def hours(value: float) -> str:
    """1.5 → "1.5", 2.0 → "2" (hours as a person writes them)."""
    return f"{value:g}"


ENV.filters.update(lx_when=when, lx_phone=spaced, lx_hours=hours)


def _render(template: str, person: SignedIn | None, tab: str | None, status: int = 200, **context: object) -> Response:
    """A volunteer page on ``_person.html`` (never cached: it may carry a resident's phone)."""
    return person_page(template, person, status, tab=tab, tabs=TABS, states=STATES, outcomes=OUTCOMES, **context)


def not_a_volunteer_page(person: SignedIn) -> Response:
    return _render("volunteer_none.html", person, None, phone=mask_phone(person.phone))


def message_page(person: SignedIn | None, heading: str, text: str, status: int) -> Response:
    """A page that only says something (a visit not found, or moved on to someone else)."""
    return _render("volunteer_message.html", person, "visits", status, heading=heading, text=text)


def visits_page(person: SignedIn, companies: list[dict], done: str | None = None) -> Response:
    """``companies``: [{company, name, active, estates, visits}], one per registration."""
    return _render("volunteer_visits.html", person, "visits", companies=companies, notice=DONE.get(done or ""))


def visit_page(
    person: SignedIn,
    company: dict,
    visit: dict,
    status: int = 200,
    done: str | None = None,
    stale: bool = False,
    errors: dict | None = None,
    form: dict | None = None,
) -> Response:
    return _render(
        "volunteer_visit.html",
        person,
        "visits",
        status,
        company=company,
        visit=visit,
        notice=DONE.get(done or ""),
        stale=STALE if stale else "",
        errors={FIELDS.get(k, k): v for k, v in (errors or {}).items()},
        form=form or {},
    )


def hours_page(person: SignedIn, companies: list[dict]) -> Response:
    """``companies``: [{company, name, volunteer_id, ledger, total, ranking}]."""
    return _render("volunteer_hours.html", person, "hours", companies=companies)


def shifts_page(person: SignedIn, companies: list[dict]) -> Response:
    """``companies``: [{company, name, shifts}] (the coming shifts of the volunteer schedule)."""
    for company in companies:
        for shift in company["shifts"]:
            shift["time"] = span(shift.get("starts_at"), shift.get("ends_at"))
    return _render("volunteer_shifts.html", person, "shifts", companies=companies)
