"""What each event asks of the notifications service, as plain data (no broker, no database).

A handler turns its event into :class:`Tell` (one person, one template) or :class:`Broadcast`
(every household of some estates) and hands them to the service; the event id is the
idempotency key of everything it causes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Tell:
    template: str
    phone: str
    name: str | None
    role: str
    variables: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Announce:
    template: str
    estate_ids: tuple[str, ...]
    variables: dict
    critical: bool


def survey_link(data: dict, days: int) -> Tell:
    """``survey.issued`` and ``survey.reminder_due`` (the latter with ``reminder: true``)."""
    recipient = data["recipient"]
    template = "survey.reminder" if data.get("reminder") else "survey.issued"
    return Tell(
        template,
        recipient["phone"],
        recipient.get("name"),
        "resident",
        {
            "title": data["case_title"],
            "link": data["link"],
            "days": days,
        },
    )


def activity_published(data: dict) -> Announce:
    variables = {key: data.get(key) or "" for key in ("title", "kind", "place", "starts_at", "ends_at")}
    variables["starts_at"] = local_time(variables["starts_at"])
    return Announce("activity.published", tuple(data["estate_ids"]), variables, critical=False)


def activity_cancelled(data: dict) -> list[Tell]:
    variables = {
        "title": data["title"],
        "starts_at": local_time(data.get("starts_at") or ""),
        "reason": data.get("reason") or "另行通知",
    }
    return [
        Tell("activity.cancelled", person["phone"], person.get("name"), person.get("role") or "resident", variables)
        for person in data.get("recipients") or []
    ]


def case_escalated(data: dict, staff: list[tuple[str, str | None]]) -> list[Tell]:
    """吹哨: every staff member of the case's estate hears that it went up a level, and why."""
    variables = {"title": data.get("title") or data["case_id"], "level": data["level"], "reason": zh(data["reason"])}
    return [Tell("case.escalated", phone, name, "staff", variables) for phone, name in staff]


def visit_overdue(data: dict, staff: list[tuple[str, str | None]]) -> list[Tell]:
    """The volunteer who missed a visit hears where it went; if no volunteer could take it, the
    estate's staff hear that it is theirs now."""
    title = data.get("case_title") or data["case_id"]
    tells = []
    if data.get("volunteer_phone"):
        next_step = "已转给其他志愿者" if data.get("reassigned_to") else "已转由物业工作人员回访"
        variables = {"title": title, "due": local_time(data["due_at"]), "next": next_step}
        tells.append(Tell("visit.overdue", data["volunteer_phone"], data.get("volunteer_name"), "volunteer", variables))
    if not data.get("reassigned_to"):
        tells += [Tell("visit.left_for_staff", phone, name, "staff", {"title": title}) for phone, name in staff]
    return tells


def signup_promoted(data: dict) -> Tell:
    """A place freed up: the resident first on the waiting list now has it, and must hear so."""
    resident = data["resident"]
    variables = {"title": data["title"], "starts_at": local_time(data.get("starts_at") or ""), "place": data["place"]}
    return Tell("activity.signup_promoted", resident["phone"], resident.get("name"), "resident", variables)


def incident(event_type: str, data: dict) -> Announce:
    variables = {
        "title": data["title"],
        "description": data.get("description") or "",
        "expected_end": local_time(data.get("expected_end") or "") or "另行通知",
        "kind": data.get("kind") or "",
    }
    if event_type == "incident.updated":
        variables["update"] = _sentence(data["update"])
    return Announce(event_type, (data["estate_id"],), variables, critical=data.get("severity") == "critical")


def zh(reason: str) -> str:
    """ "超时未办结 (SLA resolution breached)" → "超时未办结": a message in Chinese drops the
    English gloss that reasons carry for API readers."""
    return re.sub(r"\s*\([A-Za-z][^()]*\)$", "", reason)


def _sentence(text: str) -> str:
    """A staff update as the middle of a notice: it ends with a full stop before what follows."""
    text = text.strip()
    return text if text.endswith(("。", "！", "？", ".", "!", "?")) else text + "。"


def local_time(value: str, zone: str = "Asia/Shanghai") -> str:
    """ "2026-12-01T01:30:00Z" → "2026-12-01 09:30": what a resident in the estate reads (naive = UTC)."""
    if not value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
