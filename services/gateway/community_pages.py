"""The community's public league table (红黑榜); the party branch's view is at the workbench (workbench_branch).

Built from figures only (counts and rates per company and estate): no resident's name or
phone can reach them. Charts are SVG drawn on the server.
"""

from __future__ import annotations

from datetime import datetime

from services.common.fields import SHANGHAI
from services.gateway.pages import ENV


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def league_rows(
    requests_rows: list[dict],
    survey_rows: list[dict],
    names: dict[str, str],
    estate_names: dict[str, str] | None = None,
) -> list[dict]:
    """One row per company (or estate): satisfaction beside on-time and reopen rates; ``—`` where withheld."""

    def key(row: dict) -> tuple:
        return (row["tenant"], row.get("estate_id")) if estate_names is not None else (row["tenant"],)

    merged: dict[tuple, dict] = {}
    for row in requests_rows:
        merged.setdefault(key(row), {"tenant": row["tenant"]}).update(row)
    for row in survey_rows:
        if row["tenant"] in names:
            merged.setdefault(key(row), {"tenant": row["tenant"], "estate_id": row.get("estate_id")}).update(
                {"csat": row["csat"], "responses": row["responses"]}
            )
    rows = []
    for row in merged.values():
        rows.append(
            row
            | {
                "name": names.get(row["tenant"], ""),
                "estate": (estate_names or {}).get(row.get("estate_id") or "", ""),
                "csat_text": percent(row.get("csat")),
                "responses_text": str(row["responses"]) if row.get("responses") is not None else "—",
                "on_time_text": percent(row.get("on_time_rate")),
                "reopen_text": percent(row.get("reopen_rate")),
            }
        )
    rows.sort(key=lambda r: (-(r.get("csat") or -1), -(r.get("on_time_rate") or -1), r["name"], r["estate"]))
    return rows


def league_page(
    community: str,
    names: dict[str, str],
    estate_names: dict[str, str],
    requests_league: dict,
    survey_league: dict,
    days: int,
) -> str:
    companies = league_rows(requests_league["companies"], survey_league["companies"], names)
    estates = league_rows(requests_league["estates"], survey_league["estates"], names, estate_names)
    estates = [row for row in estates if row["estate"]]
    return ENV.get_template("league.html").render(
        community=community,
        days=days,
        companies=companies,
        estates=estates,
        csat_bars=[
            {"label": r["name"], "value": r["csat"], "text": r["csat_text"]}
            for r in companies
            if r.get("csat") is not None
        ],
        on_time_bars=[
            {"label": r["name"], "value": r["on_time_rate"], "text": r["on_time_text"]}
            for r in companies
            if r.get("on_time_rate") is not None
        ],
        minimum_answers=survey_league.get("minimum_answers", 5),
        minimum_cases=requests_league["minimum_cases"],
        as_of=datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
    )
