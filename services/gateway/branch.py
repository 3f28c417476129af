"""The party branch's view, in words: companies side by side, escalations to act on, overdue lists.

The requests service decides what is open, overdue and escalated (the list's ``open``,
``overdue`` and ``escalated`` filters, ``community_dashboard``); these functions only arrange
its answers for the supervisor's page: which company a case belongs to (by its estate), how long
an escalation has waited, and the newest escalation first.
"""

from __future__ import annotations

from datetime import datetime

from services.gateway.workbench import parse_time, sla_badge, span


def companies(names: dict[str, str], estates: dict[str, dict], figures: dict) -> list[dict]:
    """One row per company of the community, side by side: every company that has an estate or a case
    (the party branch's own tenant, which has neither, stays out), zeros where it has no open case."""
    counted = {row["tenant"]: row for row in figures["companies"]}
    managing = {estate["tenant"] for estate in estates.values()}
    rows = []
    for tenant, name in names.items():
        if tenant in counted or tenant in managing:
            row = counted.get(tenant, {"open": 0, "overdue": 0, "escalated": 0})
            rows.append({"tenant": tenant, "name": name, **{k: row[k] for k in ("open", "overdue", "escalated")}})
    return sorted(rows, key=lambda r: (-r["escalated"], -r["overdue"], r["name"]))


def totals(rows: list[dict]) -> dict[str, int]:
    return {k: sum(row[k] for row in rows) for k in ("open", "overdue", "escalated")}


def last_escalated_at(case: dict) -> str:
    """When the case last went up a level (the API's ``escalations``; its creation if none is listed)."""
    times = [e["at"] for e in case.get("escalations") or [] if e.get("at")]
    return max(times) if times else case["created_at"]


def placed(case: dict, names: dict[str, str], estates: dict[str, dict], now: datetime) -> dict:
    """The case with its company, estate and how long since it was escalated (and since it came in)."""
    estate = estates.get(case["estate_id"], {})
    escalated_at = last_escalated_at(case)
    return case | {
        "company": names.get(estate.get("tenant", ""), ""),
        "tenant": estate.get("tenant"),
        "estate": estate.get("name", ""),
        "escalated_at": escalated_at,
        "waiting": span((now - parse_time(escalated_at)).total_seconds()),
        "age": span((now - parse_time(case["created_at"])).total_seconds()),
        "badge": sla_badge(case, now),
    }


def escalations(cases: list[dict], names: dict[str, str], estates: dict[str, dict], now: datetime) -> list[dict]:
    """Open escalated cases, the newest escalation first."""
    rows = [placed(case, names, estates, now) for case in cases]
    return sorted(rows, key=lambda r: r["escalated_at"], reverse=True)


def overdue_by_company(
    cases: list[dict], names: dict[str, str], estates: dict[str, dict], now: datetime
) -> list[tuple[str, list[dict]]]:
    """Overdue cases grouped by company (name order), each list as the service gave it (newest first)."""
    grouped: dict[str, list[dict]] = {}
    for case in cases:
        row = placed(case, names, estates, now)
        grouped.setdefault(row["company"], []).append(row)
    return sorted(grouped.items())
