"""The workbench's statistics page in words: the form's query, one row per group, the bars.

Every figure comes from the services (``tenant_statistics`` of surveys, ``case_statistics`` of
requests); this module only lines the two answers up by group, names the group (an estate or a
category by its name, never its id) and writes each figure for a person, ``—`` where there is none.
"""

from __future__ import annotations

from services.gateway.community_pages import percent

GROUP_NAMES = {"estate": "小区", "category": "类别", "assignee": "处理人", "month": "月份"}
KEYS = {"estate": "estate_id", "category": "category", "assignee": "assignee", "month": "month"}
FORM_FIELDS = ("group", "from", "to", "estate_id")
UNASSIGNED = "未派单"


def typed(args: dict[str, str]) -> dict[str, str]:
    """What the form sent, trimmed; the grouping defaults to estates."""
    form = {name: args.get(name, "").strip() for name in FORM_FIELDS}
    form["group"] = form["group"] or "estate"
    return form


def statistics_query(form: dict[str, str]) -> dict:
    """The form → the query both services read (they validate it; the tenant is theirs to apply)."""
    query: dict = {"group_by": [form["group"]]}
    return query | {name: form[name] for name in ("from", "to", "estate_id") if form[name]}


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """The services' field names → the form's (``group_by`` is the form's ``group``)."""
    return {("group" if name == "group_by" else name): message for name, message in errors.items()}


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _nps(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f}"


def _label(group: str, key: str | None, estate_names: dict[str, str], category_names: dict[str, str]) -> str:
    if group == "estate":
        return estate_names.get(key or "", key or "—")
    if group == "category":
        return category_names.get(key or "", key or "—")
    if group == "assignee":
        return key or UNASSIGNED
    return key or "—"


def statistics_rows(
    group: str,
    survey_rows: list[dict],
    case_rows: list[dict],
    estate_names: dict[str, str],
    category_names: dict[str, str],
) -> list[dict]:
    """One row per group with satisfaction beside the case figures; a side with no row shows ``—``."""
    key = KEYS[group]
    merged: dict[str | None, dict] = {}
    for row in survey_rows:
        merged.setdefault(row[key], {})["survey"] = row
    for row in case_rows:
        merged.setdefault(row[key], {})["cases"] = row
    rows = []
    for value, sides in merged.items():
        survey, cases = sides.get("survey", {}), sides.get("cases", {})
        rows.append(
            {
                "key": value,
                "label": _label(group, value, estate_names, category_names),
                "csat": survey.get("csat"),
                "csat_text": percent(survey.get("csat")),
                "responses_text": _count(survey.get("responses")),
                "response_rate_text": percent(survey.get("response_rate")),
                "nps_text": _nps(survey.get("nps")),
                "cases_text": _count(cases.get("cases")),
                "resolved_text": _count(cases.get("resolved")),
                "on_time_rate": cases.get("on_time_rate"),
                "on_time_text": percent(cases.get("on_time_rate")),
                "reopen_rate": cases.get("reopen_rate"),
                "reopen_text": percent(cases.get("reopen_rate")),
            }
        )
    order = (lambda r: r["key"] or "") if group == "month" else (lambda r: (r["key"] is None, r["label"]))
    return sorted(rows, key=order)


def bars(rows: list[dict]) -> dict[str, list[dict]]:
    """The three charts' bars (``_charts.html``'s ``bars``): groups without the figure are left out."""
    charts = {}
    for name, value, text in (
        ("csat", "csat", "csat_text"),
        ("on_time", "on_time_rate", "on_time_text"),
        ("reopen", "reopen_rate", "reopen_text"),
    ):
        charts[name] = [
            {"label": row["label"], "value": row[value], "text": row[text]} for row in rows if row[value] is not None
        ]
    return charts
