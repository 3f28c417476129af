"""The workbench's presentation: words for states and actions, the queue's filters, the SLA badge.

Nothing here decides what a case allows or whether it is overdue: the requests service says so
in the case's answer (``allowed_actions_detail``, ``overdue``, ``sla_stage``, ``sla_due_at``,
``sla_paused``); these functions only put it in words for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from services.common.fields import SHANGHAI
from services.common.phones import mask_phone
from services.gateway import pages, sessions, staff

STATUS_NAMES = {
    "submitted": "待受理",
    "accepted": "已受理",
    "assigned": "已派单",
    "in_progress": "处理中",
    "waiting_resident": "等待业主",
    "resolved": "已办结",
    "closed": "已结案",
    "reopened": "已重开",
    "merged": "已合并",
    "cancelled": "已取消",
}
ACTION_NAMES = {
    "accept": "受理",
    "assign": "派单",
    "reassign": "改派",
    "hand_back": "退单",
    "start": "开始处理",
    "wait_resident": "等待业主",
    "resume": "继续处理",
    "resolve": "办结",
    "close": "结案",
    "reopen": "重开",
    "cancel": "取消",
    "submit": "提交",
    "merge": "并入事件",
}
VISIT_NAMES = {"scheduled": "已安排", "accepted": "志愿者已接受", "completed": "已完成", "cancelled": "已取消"}
VISIT_OUTCOMES = {"satisfied": "满意", "unsatisfied": "不满意", "unreachable": "未联系上"}
SURVEY_NAMES = {"issued": "已发出，待评价", "answered": "已评价", "expired": "已过期", "voided": "已作废"}
PRIORITY_NAMES = {"low": "低", "normal": "普通", "high": "高", "urgent": "紧急"}
ASSIGNEE_KINDS = {"staff": "员工", "team": "班组 / 志愿队", "volunteer": "志愿者"}
#: The queue's filters as the list RPC names them (``created_from``/``to`` are dates on the page).
FILTERS = ("status", "category", "estate_id", "assignee", "priority", "overdue", "escalated", "q")
PAGE_SIZE = 25
REFRESH_SECONDS = 60  # new cases appear without a manual reload (a meta refresh: no script)


@dataclass(frozen=True)
class Badge:
    text: str
    kind: str  # late, paused, open, done


def span(seconds: float) -> str:
    """A duration as a person says it: minutes, hours and minutes, days and hours."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} 小时 {minutes % 60} 分"
    return f"{hours // 24} 天 {hours % 24} 小时"


def parse_time(text: str | None) -> datetime | None:
    """The API's ``…Z`` times as naive UTC, the way the services store them."""
    if not text:
        return None
    return datetime.fromisoformat(text.removesuffix("Z"))


def sla_badge(case: dict, now: datetime) -> Badge:
    """Time left on the clock that runs (respond / resolve), red once overdue, grey while paused."""
    if case.get("sla_paused"):
        return Badge("计时暂停（等待业主）", "paused")
    due = parse_time(case.get("sla_due_at"))
    if case.get("sla_stage") is None or due is None:
        return Badge(STATUS_NAMES.get(case["status"], case["status"]), "done")
    what = "响应" if case["sla_stage"] == "response" else "办结"
    left = (due - now).total_seconds()
    if case.get("overdue") or left < 0:
        return Badge(f"{what}已超时 {span(left)}", "late")
    return Badge(f"{what}剩余 {span(left)}", "open")


def queue_query(args: dict[str, str], starting_after: str | None) -> dict[str, Any]:
    """The page's filter form → the list RPC's query (the service validates it, tenant-filtered there)."""
    query: dict[str, Any] = {name: args[name].strip() for name in FILTERS if args.get(name, "").strip()}
    if args.get("created_from"):
        query["created_from"] = f"{args['created_from']}T00:00:00"  # Asia/Shanghai, as the API reads it
    if args.get("created_to"):
        query["created_to"] = f"{args['created_to']}T23:59:59"
    query["limit"] = str(PAGE_SIZE)
    if starting_after:
        query["starting_after"] = starting_after
    return query


def number(text: str | None) -> float | int | str | None:
    """A number typed in a form as a number; an empty field as None; anything else as typed, for the
    service's schema to refuse with its message."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def field_errors(errors: dict) -> dict[str, str]:
    """A service's field errors as one Chinese line per form field."""
    flat: dict[str, str] = {}
    for name, messages in errors.items():
        if isinstance(messages, dict):
            messages = [m for more in messages.values() for m in (more if isinstance(more, list) else [more])]
        if isinstance(messages, str):
            messages = [messages]
        flat[name] = "；".join(str(m).split(" (")[0] for m in messages)
    return flat


def local(text: str | None) -> str:
    """An API time as Asia/Shanghai wall-clock minutes, the time staff think in."""
    moment = parse_time(text)
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def actor_name(actor: str | None) -> str:
    """``staff:<id>/<name>`` → the name, ``supervisor:<id>/<name>`` → 党支部 and the name; a key's
    ``company/prefix`` and ``system:…`` as they are."""
    if not actor:
        return ""
    if actor.startswith("staff:") and "/" in actor:
        return actor.split("/", 1)[1]
    if actor.startswith("supervisor:") and "/" in actor:
        return "党支部 " + actor.split("/", 1)[1]
    if actor.startswith("resident:"):
        return "业主"
    return actor


pages.ENV.filters["local"] = local
pages.ENV.filters["actor_name"] = actor_name
pages.ENV.globals.update(
    status_names=STATUS_NAMES,
    action_names=ACTION_NAMES,
    priority_names=PRIORITY_NAMES,
    role_names=staff.ROLE_NAMES,
    assignee_kinds=ASSIGNEE_KINDS,
    visit_names=VISIT_NAMES,
    visit_outcomes=VISIT_OUTCOMES,
    survey_names=SURVEY_NAMES,
)


def workbench_page(
    template: str,
    person: sessions.SignedIn,
    member: staff.Membership | None,
    status: int = 200,
    **context: Any,
) -> Response:
    """A page on ``_workbench.html``: never cached, not framable, the session's CSRF token in every form."""
    body = pages.ENV.get_template(template).render(
        person=person, member=member, csrf=person.csrf, phone=mask_phone(person.phone), **context
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response
